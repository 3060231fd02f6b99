package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolingTest {

    static Stream<Long> cases() { return Gen.seeds("pooling", 30); }

    /** Reference pooling in double over [n, c, h, w]; padding is -inf for max and counted zeros for average. */
    static Ref pool(Ref x, int k, int stride, int pad, boolean max) {
        int n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        Ref out = Ref.zeros(n, c, oh, ow);
        for (int b = 0; b < n; b++) for (int ch = 0; ch < c; ch++) for (int i = 0; i < oh; i++) for (int j = 0; j < ow; j++) {
            double acc = max ? Double.NEGATIVE_INFINITY : 0;
            for (int di = 0; di < k; di++) for (int dj = 0; dj < k; dj++) {
                int y = i * stride - pad + di, xx = j * stride - pad + dj;
                if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
                double v = x.get(b, ch, y, xx);
                acc = max ? Math.max(acc, v) : acc + v;
            }
            out.v[out.at(b, ch, i, j)] = max ? acc : acc / (k * k);
        }
        return out;
    }

    /** Distinct values (a shuffled grid 0.01 apart), so no two elements of a window tie within a finite-difference step. */
    static Tensor distinct(Gen g, int[] s) {
        int n = Gen.numel(s);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (i - n / 2) * 0.01f;
        for (int i = n - 1; i > 0; i--) { int j = g.nextInt(0, i); float t = v[i]; v[i] = v[j]; v[j] = t; }
        return Tensor.of(v, s).requiresGrad();
    }

    private static void check(long seed, boolean max) {
        Gen g = new Gen(seed);
        int k = g.nextInt(1, 3), stride = g.nextInt(1, 3), pad = g.nextInt(0, k / 2);
        int min = Math.max(1, k - 2 * pad);
        int[] s = {g.nextInt(1, 2), g.nextInt(1, 3), g.nextInt(min, min + 4), g.nextInt(min, min + 4)};
        Tensor x = max ? distinct(g, s) : g.leaf(s, -2, 2);
        OpCheck.of(max ? "maxPool2d" : "avgPool2d", seed).run(
                in -> max ? in[0].maxPool2d(k, stride, pad) : in[0].avgPool2d(k, stride, pad),
                r -> pool(r[0], k, stride, pad, max), x);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void maxPool2d(long seed) { check(seed, true); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void avgPool2d(long seed) { check(seed, false); }

    /** Enough planes for the kernels to split the work over threads. */
    @Test
    void largeInputsMatchTheReference() {
        Gen g = new Gen(11);
        int[] s = {2, 16, 24, 20};
        OpCheck.of("maxPool2d large", 11).run(in -> in[0].maxPool2d(3, 2, 1), r -> pool(r[0], 3, 2, 1, true), distinct(g, s));
        OpCheck.of("avgPool2d large", 11).run(in -> in[0].avgPool2d(2, 2, 0), r -> pool(r[0], 2, 2, 0, false), g.leaf(s, -1, 1));
    }

    @Test
    void overlappingWindowsAccumulateGradient() {
        // 2x3 input, 2x2 windows at stride 1: the 5 is the maximum of both windows
        Tensor z = Tensor.of(new float[] {0, 5, 1, 2, 3, 4}, 1, 1, 2, 3).requiresGrad();
        z.maxPool2d(2, 1, 0).sum().backward();
        assertArrayEquals(new float[] {0, 2, 0, 0, 0, 0}, z.grad().toFloatArray());
        z.zeroGrad();
        z.avgPool2d(2, 1, 0).sum().backward();
        assertArrayEquals(new float[] {0.25f, 0.5f, 0.25f, 0.25f, 0.5f, 0.25f}, z.grad().toFloatArray());
    }

    @Test
    void tiesGoToTheFirstMaximumAndNaNPropagates() {
        Tensor x = Tensor.of(new float[] {2, 2, 2, 2}, 1, 1, 2, 2).requiresGrad();
        x.maxPool2d(2, 2, 0).sum().backward();
        assertArrayEquals(new float[] {1, 0, 0, 0}, x.grad().toFloatArray());
        Tensor withNaN = Tensor.of(new float[] {1, Float.NaN, 3, 4}, 1, 1, 2, 2);
        assertTrue(Float.isNaN(withNaN.maxPool2d(2, 2, 0).item()));
    }

    @Test
    void badGeometryGetsClearErrors() {
        assertMessage("rank 4", () -> Tensor.zeros(3, 4, 4).maxPool2d(2, 2, 0));
        assertMessage("[1, 1, 2, 2]", () -> Tensor.zeros(1, 1, 2, 2).avgPool2d(3, 1, 0));
        assertMessage("half the kernel", () -> Tensor.zeros(1, 1, 4, 4).maxPool2d(2, 1, 2));
        assertMessage("stride", () -> Tensor.zeros(1, 1, 4, 4).maxPool2d(2, 0, 0));
        assertMessage("complex", () -> Tensor.ofComplex(new float[8], 1, 1, 2, 2).avgPool2d(1, 1, 0));
    }

    private static void assertMessage(String text, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(text), "message should mention " + text + ": " + e.getMessage());
    }
}
