package dev.moesr.nn.io;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {

    @Test
    void parsesEveryKindOfValue() {
        Object v = Json.parse(" {\"a\": [1, -2, 3.5, 1e3], \"b\": {\"c\": \"x\\\"y\\n\\u00e9\"}, \"t\": true, \"f\": false, \"n\": null}  ");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of(1L, -2L, 3.5, 1000.0), m.get("a"));
        assertEquals("x\"y\né", ((Map<?, ?>) m.get("b")).get("c"));
        assertEquals(true, m.get("t"));
        assertEquals(false, m.get("f"));
        assertTrue(m.containsKey("n") && m.get("n") == null);
    }

    @Test
    void writeThenParseGivesTheSameValue() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name \"quoted\"\t\\", List.of(0L, Long.MAX_VALUE, "s"));
        m.put("ctrl\u0001", Map.of("k", "v"));
        assertEquals(m, Json.parse(Json.write(m)));
    }

    @Test
    void malformedTextIsRejectedWithAPosition() {
        for (String bad : new String[] {"", "{", "{\"a\" 1}", "{\"a\":1,}", "[1 2]", "{\"a\":01}", "\"unterminated",
                "{\"a\":1}{", "{a:1}", "[1.]", "[-]", "{\"a\":tru}", "[\"\\x\"]", "{\"a\":1,\"a\":2}", "[99999999999999999999]"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
            assertTrue(e.getMessage().contains("at character"), e.getMessage());
        }
    }

    @Test
    void deepNestingIsRefusedNotOverflowed() {
        String deep = "[".repeat(10_000) + "]".repeat(10_000);
        var e = assertThrows(IllegalArgumentException.class, () -> Json.parse(deep));
        assertTrue(e.getMessage().contains("nested deeper"), e.getMessage());
    }
}
