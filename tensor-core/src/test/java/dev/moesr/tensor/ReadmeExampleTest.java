package dev.moesr.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The library example of the README, kept compiling and meaningful. */
class ReadmeExampleTest {

    @Test
    void convSiluLossGivesAGradient() {
        Tensor x;
        try (Scope scope = Scope.open()) {
            Philox rng = new Philox(42);
            x = scope.keep(Tensor.randn(rng, Device.CPU, 2, 3, 16, 16).requiresGrad());
            Tensor w = Tensor.randn(rng, Device.CPU, 8, 3, 3, 3);
            Tensor loss = x.conv2d(w, null, 1, 1).silu().square().mean();
            loss.backward();
            assertTrue(loss.item() > 0);
            assertArrayEquals(x.dims(), x.grad().dims());
        }
        float norm = 0;
        for (float v : x.grad().toFloatArray()) norm += v * v;
        assertTrue(norm > 0, "a kept leaf's gradient outlives the scope and is not zero");
        x.release();
        assertTrue(x.isReleased() && x.grad() == null, "releasing the leaf releases its gradient");
    }
}
