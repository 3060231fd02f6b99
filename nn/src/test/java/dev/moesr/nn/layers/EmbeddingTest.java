package dev.moesr.nn.layers;

import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

@SuppressWarnings("try")   // scopes in tests only bound a region
class EmbeddingTest {

    @Test
    void looksUpRowsAndAccumulatesGradientsOfRepeats() {
        Embedding e = new Embedding(4, 3, new Philox(2));
        e.weight().assign(new float[] {0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32});
        try (Scope s = Scope.open()) {
            Tensor idx = Tensor.of(new float[] {3, 1, 3, 0}, 2, 2);
            Tensor y = e.forward(idx);
            assertArrayEquals(new int[] {2, 2, 3}, y.dims());
            assertArrayEquals(new float[] {30, 31, 32, 10, 11, 12, 30, 31, 32, 0, 1, 2}, y.toFloatArray());
            y.sum().backward();
            // row 3 was used twice, rows 0 and 1 once, row 2 never
            assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 2, 2}, e.weight().grad().toFloatArray());
        }
        assertEquals("Embedding(4, 3)", e.toString());
        e.release();
    }
}
