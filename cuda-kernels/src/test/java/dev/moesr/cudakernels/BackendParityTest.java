package dev.moesr.cudakernels;

import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.Backends;
import dev.moesr.tensor.backend.BinaryOp;
import dev.moesr.tensor.backend.ConvGeometry;
import dev.moesr.tensor.backend.PoolGeometry;
import dev.moesr.tensor.backend.ReduceOp;
import dev.moesr.tensor.backend.Storage;
import dev.moesr.tensor.backend.UnaryOp;
import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static dev.moesr.cudakernels.Gpu.TOL;
import static dev.moesr.cudakernels.Gpu.TOL_TF32;
import static dev.moesr.cudakernels.Gpu.assertBits;
import static dev.moesr.cudakernels.Gpu.assertBitsOrBothNaN;
import static dev.moesr.cudakernels.Gpu.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@link Backend} method on the GPU against the CPU backend, storage level: the same
 * seeded random inputs through both, outputs compared (bit for bit where the kernels are
 * specified to compute exactly what the CPU computes, else relative error <= 1e-5, or 1e-3 for
 * cuBLAS/cuDNN with TF32). Skipped, with the reason, where no GPU can be used.
 */
@Tag("gpu")
class BackendParityTest {
    private static final Backend CPU = Backends.cpu();
    private CudaBackend gpu;
    private final List<Storage> live = new ArrayList<>();
    private boolean tf32Before;

    static Stream<Long> seeds() { return Gen.seeds("cuda-backend-parity", 12); }

    @BeforeEach
    void open() {
        gpu = Gpu.backend();
        tf32Before = CudaBackend.isTf32();
        CudaBackend.setTf32(false);
    }

    @AfterEach
    void release() {
        for (Storage s : live) s.release();
        live.clear();
        CudaBackend.setTf32(tf32Before);
    }

    /** One input on both devices. */
    private record Pair(Storage cpu, Storage gpu) {}

    private Pair up(float[] v) {
        Pair p = new Pair(CPU.upload(v.clone()), gpu.upload(v));
        live.add(p.cpu);
        live.add(p.gpu);
        return p;
    }

    /** Outputs on both devices, pre-filled with garbage (kernels must not assume zeroed outputs). */
    private Pair out(long n) {
        float[] junk = new float[(int) n];
        Arrays.fill(junk, 12345.5f);
        return up(junk);
    }

    private static float[] cpu(Pair p) { return CPU.download(p.cpu, 0, (int) p.cpu.length()); }

    private float[] gpu(Pair p) { return gpu.download(p.gpu, 0, (int) p.gpu.length()); }

    private static int numel(int[] s) { return Gen.numel(s); }

    // ---- creation -------------------------------------------------------------------------

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void fillAndArange(long seed) {
        Gen g = new Gen(seed);
        int n = g.nextInt(0, 5000);
        float v = g.pick(new Float[] {0f, -0f, 1.5f, Float.NaN, (float) g.nextDouble(-1e6, 1e6)});
        Pair a = out(n);
        CPU.fill(a.cpu, v);
        gpu.fill(a.gpu, v);
        assertBits("fill " + v, cpu(a), gpu(a));
        float start = (float) g.nextDouble(-100, 100), step = (float) g.nextDouble(-3, 3);
        Pair b = out(n);
        CPU.arange(b.cpu, start, step);
        gpu.arange(b.gpu, start, step);
        assertBits("arange " + start + " step " + step, cpu(b), gpu(b));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void philoxStreamsAreBitIdentical(long seed) {
        Gen g = new Gen(seed);
        int n = g.nextInt(1, 10_000);
        long key = g.nextInt(0, Integer.MAX_VALUE) * 0x9E3779B97F4A7C15L, counter = g.nextInt(0, 1 << 30);
        Pair u = out(n), z = out(n);
        CPU.randomUniform(u.cpu, key, counter);
        gpu.randomUniform(u.gpu, key, counter);
        assertBits("uniform n=" + n, cpu(u), gpu(u));
        CPU.randomNormal(z.cpu, key, counter);
        gpu.randomNormal(z.gpu, key, counter);
        assertBits("normal n=" + n, cpu(z), gpu(z));
    }

    // ---- data movement ----------------------------------------------------------------------

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void stridedCopy(long seed) {
        Gen g = new Gen(seed);
        int[] shape = g.shape(1, 6, 5);
        int r = shape.length;
        // source: a permuted contiguous tensor, some dimensions broadcast (stride 0)
        int[] perm = new int[r];
        for (int i = 0; i < r; i++) perm[i] = i;
        for (int i = r - 1; i > 0; i--) { int j = g.nextInt(0, i), t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
        int[] srcShape = new int[r];
        for (int i = 0; i < r; i++) srcShape[i] = shape[perm[i]];
        long[] c = StridedLayout.contiguousStrides(srcShape);
        long[] srcStrides = new long[r];
        for (int i = 0; i < r; i++) srcStrides[perm[i]] = g.nextInt(0, 3) == 0 ? 0 : c[i];
        long[] dstStrides = StridedLayout.contiguousStrides(shape);
        Pair src = up(g.floats(numel(srcShape), -10, 10));
        Pair dst = out(numel(shape));
        CPU.copy(src.cpu, srcStrides, dst.cpu, dstStrides, shape);
        gpu.copy(src.gpu, srcStrides, dst.gpu, dstStrides, shape);
        assertBits("copy " + Arrays.toString(shape) + " src strides " + Arrays.toString(srcStrides), cpu(dst), gpu(dst));
        // a contiguous copy into the middle of a bigger storage (the cuMemcpy path) through a view
        Pair big = out(numel(shape) + 7);
        Storage cv = big.cpu.view(3, numel(shape)), gv = big.gpu.view(3, numel(shape));
        CPU.copy(dst.cpu, dstStrides, cv, dstStrides, shape);
        gpu.copy(dst.gpu, dstStrides, gv, dstStrides, shape);
        cv.release();
        gv.release();
        assertBits("contiguous copy into a view", cpu(big), gpu(big));
    }

    // ---- elementwise ------------------------------------------------------------------------

    /** Inputs inside each op's domain, away from kinks (|x| >= 0.05) so derivatives are well defined. */
    private static float[] unaryInputs(Gen g, UnaryOp op, int n) {
        return switch (op) {
            case LOG, SQRT, RSQRT, POW_SCALAR -> g.floats(n, 0.05, 8);
            case RECIPROCAL -> g.floatsAwayFromZero(n, -8, 8, 0.1);
            case EXP, SOFTPLUS -> g.floats(n, -20, 20);
            default -> g.floatsAwayFromZero(n, -6, 6, 0.05);
        };
    }

    static Stream<UnaryOp> unaryOps() { return Stream.of(UnaryOp.values()); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unaryOps")
    void unaryForwardAndBackward(UnaryOp op) {
        Gen g = new Gen(op.ordinal() * 7919L + 1);
        int n = 4099;
        float a = switch (op) {
            case LEAKY_RELU -> 0.01f;
            case SOFTPLUS -> 1.5f;
            case CLAMP -> -1.25f;
            case POW_SCALAR -> 2.5f;
            case SOFTSHRINK -> 0.5f;
            default -> (float) g.nextDouble(-3, 3);
        };
        float b = op == UnaryOp.CLAMP ? 2.5f : op == UnaryOp.SOFTPLUS ? 20f : 0f;
        Pair x = up(unaryInputs(g, op, n));
        Pair y = out(n);
        CPU.unary(op, x.cpu, y.cpu, a, b);
        gpu.unary(op, x.gpu, y.gpu, a, b);
        assertClose(op + " forward", cpu(y), gpu(y), TOL);
        Pair go = up(g.floats(n, -1, 1));
        Pair gi = out(n);
        CPU.unaryBackward(op, x.cpu, go.cpu, gi.cpu, a, b);
        gpu.unaryBackward(op, x.gpu, go.gpu, gi.gpu, a, b);
        assertClose(op + " backward", cpu(gi), gpu(gi), TOL);
    }

    @Test
    void unaryEdgeValuesMatchJavaSemantics() {
        float[] edge = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1f, -1f, 1e-40f, -1e-40f, 88.8f, -104f};
        Pair x = up(edge);
        for (UnaryOp op : UnaryOp.values()) {
            Pair y = out(edge.length);
            CPU.unary(op, x.cpu, y.cpu, 0.5f, 3f);
            gpu.unary(op, x.gpu, y.gpu, 0.5f, 3f);
            assertClose(op + " on edge values", cpu(y), gpu(y), TOL);
        }
    }

    static Stream<BinaryOp> binaryOps() { return Stream.of(BinaryOp.values()); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaryOps")
    void binaryWithBroadcast(BinaryOp op) {
        for (long seed : Gen.seeds("cuda-binary-" + op, 6).toList()) {
            Gen g = new Gen(seed);
            int[] os = g.shape(1, 5, 6);
            int[] as = pad(g.broadcastPartner(os), os.length), bs = pad(g.broadcastPartner(os), os.length);
            boolean positive = op == BinaryOp.POW;
            Pair a = up(positive ? g.floats(numel(as), 0.1, 4) : g.floats(numel(as), -4, 4));
            Pair b = up(op == BinaryOp.DIV ? g.floatsAwayFromZero(numel(bs), -4, 4, 0.1) : g.floats(numel(bs), -3, 3));
            Pair o = out(numel(os));
            CPU.binary(op, a.cpu, as, b.cpu, bs, o.cpu, os);
            gpu.binary(op, a.gpu, as, b.gpu, bs, o.gpu, os);
            String what = op + " " + Arrays.toString(as) + " with " + Arrays.toString(bs) + " (seed " + seed + ")";
            if (op == BinaryOp.POW) assertClose(what, cpu(o), gpu(o), TOL);
            else assertBits(what, cpu(o), gpu(o));   // plain float arithmetic and comparisons: exact
        }
    }

    /** Few outputs, long reductions: the sums split across blocks (a whole-tensor sum, a bias gradient). */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void longSumsSplitAcrossBlocks(long seed) {
        Gen g = new Gen(seed);
        int[][] shapes = {{g.nextInt(40_000, 400_000)}, {g.nextInt(1, 9), g.nextInt(1, 40), 64, g.nextInt(60, 130)}};
        boolean[][] masks = {{true}, {true, false, true, true}};
        for (int c = 0; c < shapes.length; c++) {
            int[] shape = shapes[c];
            Pair x = up(g.floats(numel(shape), -1, 1));
            int outN = c == 0 ? 1 : shape[1];
            Pair o = out(outN);
            CPU.reduce(ReduceOp.SUM, x.cpu, shape, masks[c], o.cpu);
            gpu.reduce(ReduceOp.SUM, x.gpu, shape, masks[c], o.gpu);
            assertClose("SUM of " + Arrays.toString(shape) + " over " + Arrays.toString(masks[c]), cpu(o), gpu(o), TOL);
        }
    }

    @Test
    void binaryNaNAndSignedZeroRules() {
        float[] a = {Float.NaN, 1f, -0f, 0f, 2f, Float.NaN};
        float[] b = {1f, Float.NaN, 0f, -0f, 2f, Float.NaN};
        Pair pa = up(a), pb = up(b);
        int[] s = {a.length};
        for (BinaryOp op : BinaryOp.values()) {
            Pair o = out(a.length);
            CPU.binary(op, pa.cpu, s, pb.cpu, s, o.cpu, s);
            gpu.binary(op, pa.gpu, s, pb.gpu, s, o.gpu, s);
            // the same bits, except that any NaN matches any NaN: payloads differ (the JVM keeps the
            // operand's, the GPU returns the canonical NaN) and carry no meaning here
            assertBitsOrBothNaN(op + " on NaN and signed zeros", cpu(o), gpu(o));
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void whereWithBroadcast(long seed) {
        Gen g = new Gen(seed);
        int[] os = g.shape(1, 5, 5);
        int[] cs = pad(g.broadcastPartner(os), os.length), as = pad(g.broadcastPartner(os), os.length), bs = pad(g.broadcastPartner(os), os.length);
        float[] cond = new float[numel(cs)];
        for (int i = 0; i < cond.length; i++) cond[i] = g.nextBoolean() ? 0f : g.pick(new Float[] {1f, -2f, Float.NaN});
        Pair c = up(cond), a = up(g.floats(numel(as), -5, 5)), b = up(g.floats(numel(bs), -5, 5)), o = out(numel(os));
        CPU.where(c.cpu, cs, a.cpu, as, b.cpu, bs, o.cpu, os);
        gpu.where(c.gpu, cs, a.gpu, as, b.gpu, bs, o.gpu, os);
        assertBits("where", cpu(o), gpu(o));
    }

    private static int[] pad(int[] s, int rank) {
        int[] p = new int[rank];
        Arrays.fill(p, 1);
        System.arraycopy(s, 0, p, rank - s.length, s.length);
        return p;
    }

    // ---- reductions -------------------------------------------------------------------------

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void reduceOverRandomDimensions(long seed) {
        Gen g = new Gen(seed);
        int[] shape = g.shape(1, 4, 12);
        if (g.nextInt(0, 3) == 0) shape[g.nextInt(0, shape.length - 1)] = 300;   // a long reduced row: the block kernel
        float[] v = g.floats(numel(shape), -10, 10);
        for (int i = 0; i < v.length / 50; i++) v[g.nextInt(0, v.length - 1)] = 3f;   // ties: the first one must win
        Pair x = up(v);
        for (ReduceOp op : ReduceOp.values()) {
            boolean[] mask = new boolean[shape.length];
            if (op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN) {
                mask[g.nextInt(0, shape.length - 1)] = true;
            } else {
                for (int i = 0; i < mask.length; i++) mask[i] = g.nextBoolean();
            }
            int outN = 1;
            for (int i = 0; i < shape.length; i++) outN *= mask[i] ? 1 : shape[i];
            Pair o = out(outN);
            CPU.reduce(op, x.cpu, shape, mask, o.cpu);
            gpu.reduce(op, x.gpu, shape, mask, o.gpu);
            String what = op + " of " + Arrays.toString(shape) + " over " + Arrays.toString(mask);
            if (op == ReduceOp.SUM) assertClose(what, cpu(o), gpu(o), TOL);
            else assertBits(what, cpu(o), gpu(o));
        }
    }

    @Test
    void reduceWithNaNAndEmptyDimensions() {
        float[] v = {1f, Float.NaN, 3f, 3f, -1f, Float.NaN};
        Pair x = up(v);
        int[] shape = {2, 3};
        for (ReduceOp op : ReduceOp.values()) {
            Pair o = out(2);
            CPU.reduce(op, x.cpu, shape, new boolean[] {false, true}, o.cpu);
            gpu.reduce(op, x.gpu, shape, new boolean[] {false, true}, o.gpu);
            assertBits(op + " with NaN", cpu(o), gpu(o));
        }
        Pair empty = up(new float[0]);
        for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MAX, ReduceOp.ARGMIN}) {
            Pair o = out(3);
            CPU.reduce(op, empty.cpu, new int[] {3, 0}, new boolean[] {false, true}, o.cpu);
            gpu.reduce(op, empty.gpu, new int[] {3, 0}, new boolean[] {false, true}, o.gpu);
            assertBits(op + " over an empty dimension", cpu(o), gpu(o));
        }
        assertThrows(IllegalArgumentException.class, () -> gpu.reduce(ReduceOp.ARGMAX, x.gpu, shape, new boolean[] {true, true}, out(1).gpu));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void softmaxAndItsGradient(long seed) {
        Gen g = new Gen(seed);
        int rows = g.nextInt(1, 40), cols = g.pick(new Integer[] {1, 7, 33, 300, 1000});
        Pair x = up(g.floats(rows * cols, -8, 8)), go = up(g.floats(rows * cols, -1, 1));
        for (boolean log : new boolean[] {false, true}) {
            Pair y = out((long) rows * cols), gi = out((long) rows * cols);
            CPU.softmax(x.cpu, y.cpu, rows, cols, log);
            gpu.softmax(x.gpu, y.gpu, rows, cols, log);
            assertClose((log ? "log-" : "") + "softmax " + rows + "x" + cols, cpu(y), gpu(y), TOL);
            CPU.softmaxBackward(y.cpu, go.cpu, gi.cpu, rows, cols, log);
            gpu.softmaxBackward(y.gpu, go.gpu, gi.gpu, rows, cols, log);
            assertClose((log ? "log-" : "") + "softmax backward", cpu(gi), gpu(gi), TOL);
        }
    }

    // ---- normalisation -------------------------------------------------------------------------------

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void groupNormWithAndWithoutSiluAndItsGradients(long seed) {
        Gen g = new Gen(seed);
        int n = g.nextInt(0, 3), groups = g.pick(new Integer[] {1, 2, 4, 32}), perGroup = g.nextInt(1, 3);
        int channels = groups * perGroup;
        long spatial = g.pick(new Integer[] {1, 7, 64, 1000, 70_000});   // 70 000 takes the 1024-thread blocks
        if (spatial > 1000) n = Math.min(n, 1);
        int total = (int) (n * channels * spatial);
        double offset = g.pick(new Double[] {0.0, 0.0, 1000.0});
        Pair x = up(g.floats(total, offset - 2, offset + 2)), go = up(g.floats(total, -1, 1));
        Pair w = g.nextBoolean() ? up(g.floats(channels, -1.5, 1.5)) : null;
        Pair b = g.nextBoolean() ? up(g.floats(channels, -1.5, 1.5)) : null;
        float eps = g.pick(new Float[] {1e-5f, 1e-6f, 0.1f});
        String what = "group norm [" + n + ", " + channels + ", " + spatial + "] in " + groups + " groups, offset " + offset;
        for (boolean silu : new boolean[] {false, true}) {
            String name = what + (silu ? " + silu" : "");
            Pair y = out(total), mean = out((long) n * groups), rstd = out((long) n * groups);
            CPU.groupNorm(x.cpu, n, channels, spatial, groups, w == null ? null : w.cpu, b == null ? null : b.cpu, eps, silu, y.cpu, mean.cpu, rstd.cpu);
            gpu.groupNorm(x.gpu, n, channels, spatial, groups, w == null ? null : w.gpu, b == null ? null : b.gpu, eps, silu, y.gpu, mean.gpu, rstd.gpu);
            assertClose(name + ": mean", cpu(mean), gpu(mean), TOL);
            assertClose(name + ": rstd", cpu(rstd), gpu(rstd), TOL);
            assertClose(name, cpu(y), gpu(y), TOL);
            Pair gx = out(total), gw = out(channels), gb = out(channels);
            CPU.groupNormBackward(go.cpu, x.cpu, mean.cpu, rstd.cpu, w == null ? null : w.cpu, b == null ? null : b.cpu,
                    n, channels, spatial, groups, silu, gx.cpu, gw.cpu, gb.cpu);
            gpu.groupNormBackward(go.gpu, x.gpu, mean.gpu, rstd.gpu, w == null ? null : w.gpu, b == null ? null : b.gpu,
                    n, channels, spatial, groups, silu, gx.gpu, gw.gpu, gb.gpu);
            assertClose(name + ": grad x", cpu(gx), gpu(gx), TOL);
            assertClose(name + ": grad weight", cpu(gw), gpu(gw), TOL);
            assertClose(name + ": grad bias", cpu(gb), gpu(gb), TOL);
            // the parameter gradients alone (no grad x wanted) are the same
            Pair gw2 = out(channels);
            gpu.groupNormBackward(go.gpu, x.gpu, mean.gpu, rstd.gpu, w == null ? null : w.gpu, b == null ? null : b.gpu,
                    n, channels, spatial, groups, silu, null, gw2.gpu, null);
            assertBits(name + ": grad weight without grad x", gpu(gw), gpu(gw2));
        }
    }

    // ---- linear algebra and convolution ----------------------------------------------------------

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void matmulStridedBatched(long seed) {
        Gen g = new Gen(seed);
        int batch = g.nextInt(1, 3), m = g.nextInt(1, 70), n = g.nextInt(1, 70), k = g.nextInt(1, 90);
        boolean ta = g.nextBoolean(), tb = g.nextBoolean();
        long sa = g.nextInt(0, 3) == 0 ? 0 : (long) m * k, sb = g.nextInt(0, 3) == 0 ? 0 : (long) k * n, sc = (long) m * n;
        float alpha = (float) g.nextDouble(-2, 2), beta = g.nextBoolean() ? 0f : (float) g.nextDouble(-1, 1);
        Pair a = up(g.floats((int) (sa == 0 ? (long) m * k : sa * batch), -1, 1));
        Pair b = up(g.floats((int) (sb == 0 ? (long) k * n : sb * batch), -1, 1));
        float[] c0 = g.floats((int) (sc * batch), -1, 1);
        if (beta == 0f) c0[0] = Float.NaN;   // beta 0: C must not be read
        for (boolean tf32 : new boolean[] {false, true}) {
            CudaBackend.setTf32(tf32);
            Pair c = up(c0);
            CPU.matmul(a.cpu, b.cpu, c.cpu, batch, m, n, k, ta, tb, sa, sb, sc, alpha, beta);
            gpu.matmul(a.gpu, b.gpu, c.gpu, batch, m, n, k, ta, tb, sa, sb, sc, alpha, beta);
            assertClose(String.format("matmul b%d %dx%dx%d ta=%b tb=%b strides %d/%d alpha %.2f beta %.2f tf32=%b",
                    batch, m, n, k, ta, tb, sa, sb, alpha, beta, tf32), cpu(c), gpu(c), tf32 ? TOL_TF32 : TOL);
        }
    }

    @Test
    void matmulWithAnEmptyInnerDimensionScalesC() {
        Pair a = up(new float[0]), b = up(new float[0]);
        for (float beta : new float[] {0f, 0.5f}) {
            Pair c = up(new float[] {1, 2, 3, 4, 5, 6});
            CPU.matmul(a.cpu, b.cpu, c.cpu, 1, 2, 3, 0, false, false, 0, 0, 6, 1f, beta);
            gpu.matmul(a.gpu, b.gpu, c.gpu, 1, 2, 3, 0, false, false, 0, 0, 6, 1f, beta);
            assertBits("k = 0, beta " + beta, cpu(c), gpu(c));
        }
    }

    static ConvGeometry randomConv(Gen g) {
        int groups = g.pick(new Integer[] {1, 1, 2, 3});
        int in = groups * g.nextInt(1, 3), outC = groups * g.nextInt(1, 3);
        boolean depthwise = g.nextInt(0, 4) == 0;
        if (depthwise) { groups = in; outC = in; }
        int k = g.nextInt(1, 3), stride = g.nextInt(1, 2), dil = g.nextInt(1, 2), pad = g.nextInt(0, 1 + (k - 1) * dil / 2);
        int h = g.nextInt(k * dil + 1, 12), w = g.nextInt(k * dil + 1, 12);
        return new ConvGeometry(g.nextInt(1, 2), in, h, w, outC, k, k, stride, stride, pad, pad, dil, dil, groups);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void conv2dForwardAndBothGradients(long seed) {
        Gen g = new Gen(seed);
        ConvGeometry cg = randomConv(g);
        int xn = cg.batch() * cg.inChannels() * cg.inH() * cg.inW();
        int wn = cg.outChannels() * (cg.inChannels() / cg.groups()) * cg.kernelH() * cg.kernelW();
        int yn = cg.batch() * cg.outChannels() * cg.outH() * cg.outW();
        Pair x = up(g.floats(xn, -1, 1)), w = up(g.floats(wn, -1, 1)), dy = up(g.floats(yn, -1, 1));
        for (boolean tf32 : new boolean[] {false, true}) {
            CudaBackend.setTf32(tf32);
            double tol = tf32 ? TOL_TF32 : TOL;
            Pair y = out(yn), dx = out(xn), dw = out(wn);
            CPU.conv2d(x.cpu, w.cpu, y.cpu, cg);
            gpu.conv2d(x.gpu, w.gpu, y.gpu, cg);
            assertClose("conv2d " + cg + " tf32=" + tf32, cpu(y), gpu(y), tol);
            CPU.conv2dBackwardData(dy.cpu, w.cpu, dx.cpu, cg);
            gpu.conv2dBackwardData(dy.gpu, w.gpu, dx.gpu, cg);
            assertClose("conv2d backward data " + cg + " tf32=" + tf32, cpu(dx), gpu(dx), tol);
            CPU.conv2dBackwardFilter(x.cpu, dy.cpu, dw.cpu, cg);
            gpu.conv2dBackwardFilter(x.gpu, dy.gpu, dw.gpu, cg);
            assertClose("conv2d backward filter " + cg + " tf32=" + tf32, cpu(dw), gpu(dw), tol);
        }
    }

    @Test
    void convolutionAndFftOfViewsThatAreNotSixteenByteAligned() {
        Gen g = new Gen(99);
        ConvGeometry cg = new ConvGeometry(1, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        int xn = 3 * 81, wn = 4 * 3 * 9;
        Pair big = up(g.floats(xn + 1, -1, 1)), w = up(g.floats(wn, -1, 1));
        Storage xc = big.cpu.view(1, xn), xg = big.gpu.view(1, xn);   // 4 bytes past an aligned block
        live.add(xc);
        live.add(xg);
        Pair y = out(4 * 81);
        CPU.conv2d(xc, w.cpu, y.cpu, cg);
        gpu.conv2d(xg, w.gpu, y.gpu, cg);
        assertClose("conv2d of a misaligned view", cpu(y), gpu(y), TOL);
        Pair spec = out(2L * 9 * 5);
        Storage rc = big.cpu.view(1, 81), rg = big.gpu.view(1, 81);
        live.add(rc);
        live.add(rg);
        CPU.rfft2(rc, spec.cpu, 1, 9, 9);
        gpu.rfft2(rg, spec.gpu, 1, 9, 9);
        assertClose("rfft2 of a misaligned view", cpu(spec), gpu(spec), TOL);
    }

    // ---- pooling --------------------------------------------------------------------------

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void maxAndAveragePooling(long seed) {
        Gen g = new Gen(seed);
        int k = g.nextInt(1, 3), s = g.nextInt(1, 3), p = g.nextInt(0, k / 2);
        PoolGeometry pg = new PoolGeometry(g.nextInt(1, 2), g.nextInt(1, 3), g.nextInt(k, 13), g.nextInt(k, 13), k, k, s, s, p, p);
        int xn = pg.batch() * pg.channels() * pg.inH() * pg.inW(), yn = pg.batch() * pg.channels() * pg.outH() * pg.outW();
        float[] xv = g.floats(xn, -5, 5);
        for (int i = 0; i < xn / 10; i++) xv[g.nextInt(0, xn - 1)] = 1f;   // ties: the first index must win
        Pair x = up(xv), dy = up(g.floats(yn, -1, 1));
        Pair y = out(yn), idx = out(yn), dx = out(xn);
        CPU.maxPool2d(x.cpu, y.cpu, idx.cpu, pg);
        gpu.maxPool2d(x.gpu, y.gpu, idx.gpu, pg);
        assertBits("max pool " + pg, cpu(y), gpu(y));
        assertBits("max pool argmax " + pg, cpu(idx), gpu(idx));
        CPU.maxPool2dBackward(dy.cpu, idx.cpu, dx.cpu, pg);
        gpu.maxPool2dBackward(dy.gpu, idx.gpu, dx.gpu, pg);
        assertClose("max pool backward " + pg, cpu(dx), gpu(dx), TOL);
        Pair ya = out(yn), dxa = out(xn);
        CPU.avgPool2d(x.cpu, ya.cpu, pg);
        gpu.avgPool2d(x.gpu, ya.gpu, pg);
        assertClose("avg pool " + pg, cpu(ya), gpu(ya), TOL);
        CPU.avgPool2dBackward(dy.cpu, dxa.cpu, pg);
        gpu.avgPool2dBackward(dy.gpu, dxa.gpu, pg);
        assertClose("avg pool backward " + pg, cpu(dxa), gpu(dxa), TOL);
    }

    // ---- indexing -------------------------------------------------------------------------

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void indexSelectAndItsAdjoint(long seed) {
        Gen g = new Gen(seed);
        int outer = g.nextInt(1, 4), axis = g.nextInt(1, 9), inner = g.nextInt(1, 6), count = g.nextInt(0, 12);
        float[] index = new float[count];
        for (int i = 0; i < count; i++) index[i] = g.nextInt(0, axis - 1);   // duplicates on purpose
        Pair x = up(g.floats(outer * axis * inner, -3, 3)), ix = up(index);
        Pair y = out((long) outer * count * inner), gx = out((long) outer * axis * inner);
        CPU.indexSelect(x.cpu, outer, axis, inner, ix.cpu, count, y.cpu);
        gpu.indexSelect(x.gpu, outer, axis, inner, ix.gpu, count, y.gpu);
        assertBits("index select", cpu(y), gpu(y));
        Pair gy = up(g.floats(outer * count * inner, -1, 1));
        CPU.indexSelectBackward(gy.cpu, outer, axis, inner, ix.cpu, count, gx.cpu);
        gpu.indexSelectBackward(gy.gpu, outer, axis, inner, ix.gpu, count, gx.gpu);
        assertClose("index select backward", cpu(gx), gpu(gx), TOL);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void gatherAndItsAdjoint(long seed) {
        Gen g = new Gen(seed);
        int[] xs = g.shape(1, 4, 6);
        int dim = g.nextInt(0, xs.length - 1);
        int[] is = xs.clone();
        for (int d = 0; d < is.length; d++) is[d] = d == dim ? g.nextInt(1, 8) : g.nextInt(1, xs[d]);
        float[] index = new float[numel(is)];
        for (int i = 0; i < index.length; i++) index[i] = g.nextInt(0, xs[dim] - 1);
        Pair x = up(g.floats(numel(xs), -3, 3)), ix = up(index), y = out(numel(is)), gx = out(numel(xs));
        CPU.gather(x.cpu, xs, dim, ix.cpu, is, y.cpu);
        gpu.gather(x.gpu, xs, dim, ix.gpu, is, y.gpu);
        assertBits("gather dim " + dim + " of " + Arrays.toString(xs) + " by " + Arrays.toString(is), cpu(y), gpu(y));
        Pair gy = up(g.floats(numel(is), -1, 1));
        CPU.gatherBackward(gy.cpu, is, dim, ix.cpu, xs, gx.cpu);
        gpu.gatherBackward(gy.gpu, is, dim, ix.gpu, xs, gx.gpu);
        assertClose("gather backward", cpu(gx), gpu(gx), TOL);
    }

    @Test
    void anIndexOutOfRangeIsReportedAtTheNextRead() {
        Pair x = up(new float[] {1, 2, 3, 4});
        for (float bad : new float[] {4f, -1f, 1.5f, Float.NaN}) {
            Pair ix = up(new float[] {0, bad}), y = out(2);
            gpu.indexSelect(x.gpu, 1, 4, 1, ix.gpu, 2, y.gpu);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gpu.download(y.gpu, 0, 2), "index " + bad);
            assertTrue(e.getMessage().contains("indexSelect"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> CPU.indexSelect(x.cpu, 1, 4, 1, ix.cpu, 2, out(2).cpu), "the CPU rejects " + bad + " too");
        }
        Pair ok = up(new float[] {3});
        Pair z = out(1);
        gpu.indexSelect(x.gpu, 1, 4, 1, ok.gpu, 1, z.gpu);
        assertBits("after the error is reported the device works on", new float[] {4}, gpu(z));
    }

    // ---- complex and FFT ------------------------------------------------------------------

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void complexProductAndModulus(long seed) {
        Gen g = new Gen(seed);
        int[] os = g.shape(1, 4, 5);
        int[] as = pad(g.broadcastPartner(os), os.length), bs = pad(g.broadcastPartner(os), os.length);
        Pair a = up(g.floats(2 * numel(as), -3, 3)), b = up(g.floats(2 * numel(bs), -3, 3));
        for (boolean conj : new boolean[] {false, true}) {
            Pair o = out(2L * numel(os));
            CPU.complexMul(a.cpu, as, b.cpu, bs, o.cpu, os, conj);
            gpu.complexMul(a.gpu, as, b.gpu, bs, o.gpu, os, conj);
            assertBits("complex mul conj=" + conj + " " + Arrays.toString(as) + " x " + Arrays.toString(bs), cpu(o), gpu(o));
        }
        Pair m = out(numel(as));
        CPU.complexAbs(a.cpu, m.cpu);
        gpu.complexAbs(a.gpu, m.gpu);
        assertClose("complex abs", cpu(m), gpu(m), TOL);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void orthonormalFfts(long seed) {
        Gen g = new Gen(seed);
        int batch = g.nextInt(1, 3), h = g.pick(new Integer[] {1, 2, 5, 8, 12, 31}), w = g.pick(new Integer[] {1, 2, 6, 9, 16, 33});
        Pair z = up(g.floats(2 * batch * h * w, -1, 1));
        for (boolean inverse : new boolean[] {false, true}) {
            Pair o = out(2L * batch * h * w);
            CPU.fft2(z.cpu, o.cpu, batch, h, w, inverse);
            gpu.fft2(z.gpu, o.gpu, batch, h, w, inverse);
            assertClose("fft2 inverse=" + inverse + " " + batch + "x" + h + "x" + w, cpu(o), gpu(o), TOL);
        }
        int wc = w / 2 + 1;
        Pair r = up(g.floats(batch * h * w, -1, 1));
        Pair spec = out(2L * batch * h * wc);
        CPU.rfft2(r.cpu, spec.cpu, batch, h, w);
        gpu.rfft2(r.gpu, spec.gpu, batch, h, w);
        assertClose("rfft2 " + batch + "x" + h + "x" + w, cpu(spec), gpu(spec), TOL);
        // irfft2 of a spectrum that came from real data (Hermitian), from the CPU's copy on both
        Pair hermitian = up(cpu(spec));
        float[] before = gpu(hermitian);
        Pair back = out((long) batch * h * w);
        CPU.irfft2(hermitian.cpu, back.cpu, batch, h, w);
        gpu.irfft2(hermitian.gpu, back.gpu, batch, h, w);
        assertClose("irfft2 " + batch + "x" + h + "x" + w, cpu(back), gpu(back), TOL);
        assertBits("irfft2 leaves its input alone", before, gpu(hermitian));
    }
}
