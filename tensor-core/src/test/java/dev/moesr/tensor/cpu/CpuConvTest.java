package dev.moesr.tensor.cpu;

import dev.moesr.tensor.backend.ConvGeometry;
import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CPU convolution kernels directly: outputs start as NaN (kernels must write, never read
 * them), forward against the definition in double, and both backward kernels against the
 * forward through the adjoint identities {@code <conv(x, w), y> = <x, dataGrad(y, w)> = <w, filterGrad(x, y)>}.
 * The op-level tests cover the many small geometries; these take the paths that need big
 * shapes: groups side by side, backward data in slices.
 */
class CpuConvTest {

    private static void check(ConvGeometry g, long seed) {
        check(MicroKernel.best(), g, seed);
    }

    private static void check(MicroKernel kern, ConvGeometry g, long seed) {
        Gen r = new Gen(seed);
        int cg = g.inChannels() / g.groups();
        float[] x = r.floats(g.batch() * g.inChannels() * g.inH() * g.inW(), -1, 1);
        float[] w = r.floats(g.outChannels() * cg * g.kernelH() * g.kernelW(), -1, 1);
        float[] y = r.floats(g.batch() * g.outChannels() * g.outH() * g.outW(), -1, 1);
        float[] out = nan(y.length), gx = nan(x.length), gw = nan(w.length);
        CpuConv.forward(kern, new CpuStorage(x), new CpuStorage(w), new CpuStorage(out), g);
        CpuConv.backwardData(kern, new CpuStorage(y), new CpuStorage(w), new CpuStorage(gx), g);
        CpuConv.backwardFilter(kern, new CpuStorage(x), new CpuStorage(y), new CpuStorage(gw), g);

        double[] ref = definition(x, w, g);
        for (int i = 0; i < ref.length; i++) {
            if (!(Math.abs(out[i] - ref[i]) <= 1e-4 + 1e-4 * Math.abs(ref[i]))) {
                fail(g + ": forward at " + i + " is " + out[i] + ", want " + ref[i]);
            }
        }
        double forward = dot(ref, y), data = dot(x, gx), filter = dot(w, gw);
        double scale = 1e-5 * Math.sqrt(ref.length) * Math.max(1, Math.sqrt((double) cg * g.kernelH() * g.kernelW()));
        assertEquals(forward, data, scale * 10, g + ": <conv(x), y> vs <x, backwardData(y)>");
        assertEquals(forward, filter, scale * 10, g + ": <conv(x), y> vs <w, backwardFilter(x, y)>");
        assertFalse(Double.isNaN(data) || Double.isNaN(filter), "a backward kernel left part of its output unwritten");
    }

    private static double[] definition(float[] x, float[] w, ConvGeometry g) {
        int cg = g.inChannels() / g.groups(), og = g.outChannels() / g.groups();
        int h = g.inH(), wd = g.inW(), oh = g.outH(), ow = g.outW(), kh = g.kernelH(), kw = g.kernelW();
        double[] out = new double[g.batch() * g.outChannels() * oh * ow];
        int at = 0;
        for (int n = 0; n < g.batch(); n++)
            for (int o = 0; o < g.outChannels(); o++)
                for (int y = 0; y < oh; y++)
                    for (int z = 0; z < ow; z++) {
                        double s = 0;
                        for (int c = 0; c < cg; c++)
                            for (int r = 0; r < kh; r++) {
                                int ih = y * g.strideH() - g.padH() + r * g.dilationH();
                                if (ih < 0 || ih >= h) continue;
                                for (int q = 0; q < kw; q++) {
                                    int iw = z * g.strideW() - g.padW() + q * g.dilationW();
                                    if (iw < 0 || iw >= wd) continue;
                                    s += (double) w[((o * cg + c) * kh + r) * kw + q] * x[((n * g.inChannels() + (o / og) * cg + c) * h + ih) * wd + iw];
                                }
                            }
                        out[at++] = s;
                    }
        return out;
    }

    private static float[] nan(int n) {
        float[] v = new float[n];
        Arrays.fill(v, Float.NaN);
        return v;
    }

    private static double dot(double[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    @Test
    void groupsSideBySide() {
        // eight groups of two channels: products small enough to run one per thread, filters included
        check(new ConvGeometry(2, 16, 9, 11, 8, 3, 3, 1, 2, 1, 0, 1, 1, 8), 1);
    }

    @Test
    void backwardDataInSlices() {
        // 16 channels x 3x3 x 200x200 positions is more than one column buffer
        check(new ConvGeometry(1, 16, 200, 200, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1), 2);
    }

    @Test
    void stridedDilatedAndPointwise() {
        check(new ConvGeometry(2, 6, 23, 17, 5, 3, 2, 2, 3, 2, 1, 2, 1, 1), 3);
        check(new ConvGeometry(1, 12, 31, 29, 40, 1, 1, 1, 1, 0, 0, 1, 1, 2), 4);
        check(new ConvGeometry(1, 4, 15, 15, 8, 3, 3, 2, 2, 1, 1, 1, 1, 4), 5);     // depthwise, multiplier 2
    }

    @Test
    void directKernelOnWideRows() {
        // unit stride along the width and rows of at least 3/4 of a tile: read in place from a padded image
        check(new ConvGeometry(1, 64, 20, 128, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1), 6);
        check(new ConvGeometry(2, 6, 7, 45, 10, 3, 3, 2, 1, 2, 0, 2, 1, 2), 7);          // stride along H only, groups
        check(new ConvGeometry(1, 5, 6, 26, 3, 2, 3, 1, 1, 0, 5, 1, 2, 1), 8);           // padding past the kernel reach: cropped gradient
        check(new ConvGeometry(1, 3, 5, 33, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1), 9);          // a part-filled last tile of each row
    }

    @Test
    void scalarKernelOnEveryPath() {
        MicroKernel scalar = ScalarMicroKernel.INSTANCE;
        check(scalar, new ConvGeometry(1, 3, 5, 30, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1), 10);      // direct
        check(scalar, new ConvGeometry(2, 4, 9, 7, 5, 3, 2, 2, 2, 1, 0, 1, 2, 1), 11);       // implicit GEMM
        check(scalar, new ConvGeometry(1, 6, 5, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 2), 12);       // pointwise
    }

    @Test
    void wrongStorageSizesAreRejected() {
        ConvGeometry g = new ConvGeometry(1, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> CpuConv.forward(new CpuStorage(new float[31]),
                new CpuStorage(new float[54]), new CpuStorage(new float[48]), g));
        assertTrue(e.getMessage().contains("input") && e.getMessage().contains("32"), e.getMessage());
    }

    @Test
    void insideRangesOfTheOutputRowWalk() {
        // brute force over small cases: which t of a run land inside [0, limit)
        for (int start = 0; start < 6; start++)
            for (int run = 1; run < 7; run++)
                for (int stride = 1; stride < 4; stride++)
                    for (int off = -5; off < 5; off++)
                        for (int limit = 1; limit < 8; limit++) {
                            int lo = -1, hi = -1;
                            for (int t = 0; t < run; t++) {
                                int v = (start + t) * stride + off;
                                if (v >= 0 && v < limit) { if (lo < 0) lo = t; hi = t; }
                            }
                            int gotLo = CpuConv.firstInside(start, run, stride, off, limit), gotHi = CpuConv.lastInside(start, run, stride, off, limit);
                            String c = "start " + start + " run " + run + " stride " + stride + " off " + off + " limit " + limit;
                            if (lo < 0) assertTrue(gotLo > gotHi || gotLo >= run || gotHi < 0, c);
                            else { assertEquals(lo, gotLo, c); assertEquals(hi, gotHi, c); }
                        }
    }
}
