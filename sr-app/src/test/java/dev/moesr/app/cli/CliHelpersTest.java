package dev.moesr.app.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CliHelpersTest {

    @Test
    void jsonEscapesStringsAndWritesNonFiniteNumbersAsNull() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", "a \"quoted\"\\path\nline\t\u0001");
        m.put("nan", Double.NaN);
        m.put("inf", Double.POSITIVE_INFINITY);
        m.put("whole", 3.0);
        m.put("fraction", 0.125);
        m.put("int", 7);
        m.put("flag", true);
        m.put("none", null);
        m.put("list", List.of(1, 2));
        m.put("nested", List.of(Map.of("k", "v")));
        m.put("empty", Map.of());
        String json = Json.write(m);
        assertTrue(json.contains("\"text\": \"a \\\"quoted\\\"\\\\path\\nline\\t\\u0001\""), json);
        assertTrue(json.contains("\"nan\": null") && json.contains("\"inf\": null"), json);
        assertTrue(json.contains("\"whole\": 3.0") && json.contains("\"fraction\": 0.125") && json.contains("\"int\": 7"), json);
        assertTrue(json.contains("\"flag\": true") && json.contains("\"none\": null") && json.contains("\"list\": [1, 2]"), json);
        assertTrue(json.contains("\"k\": \"v\"") && json.contains("\"empty\": {}"), json);
        assertEquals("[1, null]", Json.write(Json.list(1, null)));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    }

    @Test
    void progressDrawsInPlaceOnlyWhenEnabled() {
        StringWriter s = new StringWriter();
        Progress p = new Progress(new PrintWriter(s), true, 3);
        p.step(0, "long-name.png");
        p.step(1, "b.png");
        p.finish();
        String out = s.toString();
        assertTrue(out.startsWith("\r[0/3] long-name.png"), out);
        assertTrue(out.contains("\r[1/3] b.png        "), "the shorter line blanks the rest of the longer one: " + out);
        assertTrue(out.endsWith("\r"), "finish leaves the cursor at the start of a clean line");
        StringWriter quiet = new StringWriter();
        Progress off = new Progress(new PrintWriter(quiet), false, 3);
        off.step(0, "a");
        off.finish();
        assertEquals("", quiet.toString());
    }

    @Test
    void failuresAreOneLineWithTheStackTraceOnlyWhenVerbose() {
        StringWriter s = new StringWriter();
        assertEquals(1, Failures.report(new PrintWriter(s), "eval", new IOException("x.png: is truncated"), false));
        assertEquals("sr-app eval: x.png: is truncated", s.toString().strip());
        StringWriter v = new StringWriter();
        Failures.report(new PrintWriter(v), "eval", new IllegalStateException("boom"), true);
        assertTrue(v.toString().startsWith("sr-app eval: IllegalStateException: boom"), v.toString());
        assertTrue(v.toString().contains("\tat "), "stack trace with --verbose");
    }
}
