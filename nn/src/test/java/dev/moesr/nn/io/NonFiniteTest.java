package dev.moesr.nn.io;

import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NonFiniteTest {
    @Test
    void namesTheFirstTensorWithNaNOrInfinity() {
        try (Scope s = Scope.open()) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            m.put("a", Tensor.of(new float[] {1, 2, Float.MAX_VALUE}, 3));
            assertNull(NonFinite.firstNonFinite(m));
            m.put("b", Tensor.of(new float[] {0, Float.POSITIVE_INFINITY}, 2));
            m.put("c", Tensor.of(new float[] {Float.NaN}, 1));
            assertEquals("b", NonFinite.firstNonFinite(m));
            NonFiniteException e = assertThrows(NonFiniteException.class, () -> NonFinite.require(m, "writing x"));
            assertTrue(e.getMessage().startsWith("writing x: tensor b holds NaN"), e.getMessage());
        }
    }
}
