package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tensor.conv2d against a direct double-precision convolution, forward and gradients for x, weight and bias. */
class ConvOpTest {

    static Stream<Long> cases() { return Gen.seeds("conv2d", 60); }

    /** The convolution as its definition, in double; bias may be null. */
    static Ref reference(Ref x, Ref w, Ref bias, int[] stride, int[] pad, int[] dil, int groups) {
        int n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
        int o = w.shape[0], cg = w.shape[1], kh = w.shape[2], kw = w.shape[3];
        int oh = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) / stride[0] + 1;
        int ow = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) / stride[1] + 1;
        int og = o / groups;
        Ref out = Ref.zeros(n, o, oh, ow);
        int at = 0;
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < o; oc++)
                for (int y = 0; y < oh; y++)
                    for (int xx = 0; xx < ow; xx++) {
                        double s = bias == null ? 0 : bias.v[oc];
                        for (int ci = 0; ci < cg; ci++) {
                            int plane = (b * c + (oc / og) * cg + ci) * h * wd, filter = (oc * cg + ci) * kh * kw;
                            for (int r = 0; r < kh; r++) {
                                int ih = y * stride[0] - pad[0] + r * dil[0];
                                if (ih < 0 || ih >= h) continue;
                                for (int q = 0; q < kw; q++) {
                                    int iw = xx * stride[1] - pad[1] + q * dil[1];
                                    if (iw >= 0 && iw < wd) s += w.v[filter + r * kw + q] * x.v[plane + ih * wd + iw];
                                }
                            }
                        }
                        out.v[at++] = s;
                    }
        return out;
    }

    /** A random valid geometry: stride 1-3, padding 0-2, dilation 1-2, kernel 1-3, groups 1, 2 or depthwise, batch 1-2, odd sizes. */
    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void matchesTheReference(long seed) {
        Gen g = new Gen(seed);
        int kind = g.nextInt(0, 2);
        int groups, cg, og;
        if (kind == 0) { groups = 1; cg = g.nextInt(1, 5); og = g.nextInt(1, 5); }
        else if (kind == 1) { groups = 2; cg = g.nextInt(1, 3); og = g.nextInt(1, 3); }
        else { groups = g.nextInt(1, 4); cg = 1; og = g.nextInt(1, 2); }      // depthwise, channel multiplier 1 or 2
        int kh = g.nextInt(1, 3), kw = g.nextInt(1, 3);
        int[] stride = {g.nextInt(1, 3), g.nextInt(1, 3)};
        int[] pad = {g.nextInt(0, 2), g.nextInt(0, 2)};
        int[] dil = {g.nextInt(1, 2), g.nextInt(1, 2)};
        if (g.nextInt(0, 3) == 0) { kh = kw = 1; stride = new int[] {1, 1}; pad = new int[] {0, 0}; }   // the pointwise path
        int h = Math.max(1, dil[0] * (kh - 1) + 1 - 2 * pad[0]) + g.nextInt(0, 6);
        int w = Math.max(1, dil[1] * (kw - 1) + 1 - 2 * pad[1]) + g.nextInt(0, 6);
        if (g.nextInt(0, 2) == 0) w += g.nextInt(24, 40);    // rows wide enough for the direct (stride-1) kernel
        int n = g.nextInt(1, 2);
        int[] xs = {n, groups * cg, h, w}, ws = {groups * og, cg, kh, kw};
        boolean withBias = g.nextBoolean();
        Tensor x = g.leaf(xs, -1, 1), wt = g.leaf(ws, -1, 1);
        Tensor b = withBias ? g.leaf(new int[] {groups * og}, -1, 1) : null;
        int[] st = stride, pd = pad, dl = dil;
        String label = "conv2d x" + Arrays.toString(xs) + " w" + Arrays.toString(ws) + " stride " + Arrays.toString(st)
                + " pad " + Arrays.toString(pd) + " dil " + Arrays.toString(dl) + " groups " + groups + (withBias ? " bias" : "");
        OpCheck check = OpCheck.of(label, seed);
        if (withBias) {
            check.run(in -> in[0].conv2d(in[1], in[2], st, pd, dl, groups),
                    r -> reference(r[0], r[1], r[2], st, pd, dl, groups), x, wt, b);
        } else {
            check.run(in -> in[0].conv2d(in[1], null, st, pd, dl, groups),
                    r -> reference(r[0], r[1], null, st, pd, dl, groups), x, wt);
        }
    }

    @Test
    void blockEdgesOfTheImplicitGemm() {
        // 32 channels x 3x3 = 288 > one depth block; 70x70 = 4900 output positions > one column panel
        Gen g = new Gen(3);
        Tensor x = g.leaf(new int[] {1, 32, 70, 70}, -1, 1), w = g.leaf(new int[] {3, 32, 3, 3}, -1, 1), b = g.leaf(new int[] {3}, -1, 1);
        OpCheck.of("conv2d big", 3).forwardTol(1e-4, 1e-4).gradTol(2e-3, 1e-2).probes(6)
                .run(in -> in[0].conv2d(in[1], in[2], 1, 1), r -> reference(r[0], r[1], r[2], new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}, 1), x, w, b);
    }

    @Test
    void knownValues() {
        // a 3x3 box filter over ones with padding 1: corners see 4, edges 6, the middle 9
        Tensor x = Tensor.ones(1, 1, 3, 3), w = Tensor.ones(1, 1, 3, 3);
        assertArrayEquals(new float[] {4, 6, 4, 6, 9, 6, 4, 6, 4}, x.conv2d(w, null, 1, 1).toFloatArray());
        assertArrayEquals(new float[] {5, 7, 5, 7, 10, 7, 5, 7, 5}, x.conv2d(w, Tensor.ones(1), 1, 1).toFloatArray());
    }

    @Test
    void badShapesAreExplained() {
        var ch = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(1, 3, 8, 8).conv2d(Tensor.zeros(4, 2, 3, 3), null, 1, 1));
        assertTrue(ch.getMessage().contains("[1, 3, 8, 8]") && ch.getMessage().contains("[4, 2, 3, 3]"), ch.getMessage());
        var rank = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(3, 8, 8).conv2d(Tensor.zeros(4, 3, 3, 3), null, 1, 1));
        assertTrue(rank.getMessage().contains("[N, C, H, W]"), rank.getMessage());
        var bias = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(1, 3, 8, 8).conv2d(Tensor.zeros(4, 3, 3, 3), Tensor.zeros(3), 1, 1));
        assertTrue(bias.getMessage().contains("bias"), bias.getMessage());
        var small = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(1, 3, 2, 2).conv2d(Tensor.zeros(4, 3, 5, 5), null, 1, 0));
        assertTrue(small.getMessage().contains("too small"), small.getMessage());
        var groups = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(1, 3, 8, 8).conv2d(Tensor.zeros(4, 1, 3, 3), null, 1, 1, 1, 2));
        assertTrue(groups.getMessage().contains("groups"), groups.getMessage());
    }
}
