package dev.moesr.tensor.cpu;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.BinaryOp;
import dev.moesr.tensor.backend.ConvGeometry;
import dev.moesr.tensor.backend.PoolGeometry;
import dev.moesr.tensor.backend.ReduceOp;
import dev.moesr.tensor.backend.Storage;
import dev.moesr.tensor.backend.UnaryOp;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The pure-Java backend. This class only routes: each family of kernels lives in its own
 * class (CpuElementwise, CpuReduce, CpuGemm, CpuConv, ...), next to its tests.
 */
public final class CpuBackend implements Backend {
    public static final CpuBackend INSTANCE = new CpuBackend();

    private final AtomicLong inUse = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    /** Released arrays of allocate, reused by length. */
    private final CpuArrayPool pool = new CpuArrayPool();

    private CpuBackend() {}

    @Override public Device device() { return Device.CPU; }

    // ---- memory ---------------------------------------------------------------------------

    @Override public Storage allocate(long floats) {
        if (floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a CPU tensor holds at most 2^31 floats; " + floats + " requested (use smaller tiles or batches)");
        }
        return track(new CpuStorage(pool.take((int) floats), true));
    }

    @Override public Storage upload(float[] host) { return track(new CpuStorage(host)); }

    @Override public float[] download(Storage src, long offset, int count) {
        CpuStorage s = CpuStorage.of(src);
        float[] out = new float[count];
        System.arraycopy(s.data, s.base + (int) offset, out, 0, count);
        return out;
    }

    private Storage track(CpuStorage s) {
        long now = inUse.addAndGet(4L * s.data.length);
        peak.accumulateAndGet(now, Math::max);
        return s;
    }

    void freed(float[] data, boolean pooled) {
        inUse.addAndGet(-4L * data.length);
        if (pooled) pool.give(data);
    }

    @Override public long bytesInUse() { return inUse.get(); }

    @Override public long peakBytes() { return peak.get(); }

    @Override public void resetPeakBytes() { peak.set(inUse.get()); }

    // ---- creation and data movement ---------------------------------------------------------

    @Override public void fill(Storage out, float value) {
        CpuStorage o = CpuStorage.of(out);
        java.util.Arrays.fill(o.data, o.base, o.base + (int) o.length(), value);
    }

    @Override public void arange(Storage out, float start, float step) {
        CpuStorage o = CpuStorage.of(out);
        for (int i = 0; i < o.length(); i++) o.data[o.base + i] = start + i * step;
    }

    @Override public void randomUniform(Storage out, long seed, long counter) { CpuRandom.uniform(CpuStorage.of(out), seed, counter); }

    @Override public void randomNormal(Storage out, long seed, long counter) { CpuRandom.normal(CpuStorage.of(out), seed, counter); }

    @Override public void copy(Storage src, long[] srcStrides, Storage dst, long[] dstStrides, int[] shape) {
        CpuCopy.copy(CpuStorage.of(src), srcStrides, CpuStorage.of(dst), dstStrides, shape);
    }

    // ---- elementwise and reductions ---------------------------------------------------------------

    @Override public void unary(UnaryOp op, Storage x, Storage out, float a, float b) {
        CpuElementwise.unary(op, CpuStorage.of(x), CpuStorage.of(out), a, b);
    }

    @Override public void unaryBackward(UnaryOp op, Storage x, Storage gradOut, Storage gradIn, float a, float b) {
        CpuElementwise.unaryBackward(op, CpuStorage.of(x), CpuStorage.of(gradOut), CpuStorage.of(gradIn), a, b);
    }

    @Override public void binary(BinaryOp op, Storage a, int[] aShape, Storage b, int[] bShape, Storage out, int[] outShape) {
        CpuElementwise.binary(op, CpuStorage.of(a), aShape, CpuStorage.of(b), bShape, CpuStorage.of(out), outShape);
    }

    @Override public void where(Storage cond, int[] condShape, Storage a, int[] aShape, Storage b, int[] bShape, Storage out, int[] outShape) {
        CpuElementwise.where(CpuStorage.of(cond), condShape, CpuStorage.of(a), aShape, CpuStorage.of(b), bShape, CpuStorage.of(out), outShape);
    }

    @Override public void reduce(ReduceOp op, Storage x, int[] shape, boolean[] reduced, Storage out) {
        CpuReduce.reduce(op, CpuStorage.of(x), shape, reduced, CpuStorage.of(out));
    }

    @Override public void softmax(Storage x, Storage out, int rows, int cols, boolean log) {
        CpuReduce.softmax(CpuStorage.of(x), CpuStorage.of(out), rows, cols, log);
    }

    @Override public void softmaxBackward(Storage y, Storage gradOut, Storage gradIn, int rows, int cols, boolean log) {
        CpuReduce.softmaxBackward(CpuStorage.of(y), CpuStorage.of(gradOut), CpuStorage.of(gradIn), rows, cols, log);
    }

    // ---- normalisation ----------------------------------------------------------------------

    @Override public void groupNorm(Storage x, int n, int channels, long spatial, int groups, Storage weight, Storage bias,
                                    float eps, boolean silu, Storage out, Storage mean, Storage rstd) {
        CpuNorm.groupNorm(CpuStorage.of(x), n, channels, spatial, groups, orNull(weight), orNull(bias), eps, silu,
                CpuStorage.of(out), CpuStorage.of(mean), CpuStorage.of(rstd));
    }

    @Override public void groupNormBackward(Storage gradOut, Storage x, Storage mean, Storage rstd, Storage weight, Storage bias,
                                            int n, int channels, long spatial, int groups, boolean silu,
                                            Storage gradX, Storage gradWeight, Storage gradBias) {
        CpuNorm.groupNormBackward(CpuStorage.of(gradOut), CpuStorage.of(x), CpuStorage.of(mean), CpuStorage.of(rstd),
                orNull(weight), orNull(bias), n, channels, spatial, groups, silu, orNull(gradX), orNull(gradWeight), orNull(gradBias));
    }

    private static CpuStorage orNull(Storage s) { return s == null ? null : CpuStorage.of(s); }

    // ---- linear algebra, convolution, pooling -------------------------------------------------------

    @Override public void matmul(Storage a, Storage b, Storage c, int batch, int m, int n, int k,
                                 boolean transA, boolean transB, long strideA, long strideB, long strideC,
                                 float alpha, float beta) {
        CpuGemm.batched(CpuStorage.of(a), CpuStorage.of(b), CpuStorage.of(c), batch, m, n, k, transA, transB, strideA, strideB, strideC, alpha, beta);
    }

    @Override public void conv2d(Storage x, Storage weight, Storage out, ConvGeometry g) {
        CpuConv.forward(CpuStorage.of(x), CpuStorage.of(weight), CpuStorage.of(out), g);
    }

    @Override public void conv2dBackwardData(Storage gradOut, Storage weight, Storage gradX, ConvGeometry g) {
        CpuConv.backwardData(CpuStorage.of(gradOut), CpuStorage.of(weight), CpuStorage.of(gradX), g);
    }

    @Override public void conv2dBackwardFilter(Storage x, Storage gradOut, Storage gradWeight, ConvGeometry g) {
        CpuConv.backwardFilter(CpuStorage.of(x), CpuStorage.of(gradOut), CpuStorage.of(gradWeight), g);
    }

    @Override public void maxPool2d(Storage x, Storage out, Storage argmax, PoolGeometry g) {
        CpuPool.max(CpuStorage.of(x), CpuStorage.of(out), CpuStorage.of(argmax), g);
    }

    @Override public void maxPool2dBackward(Storage gradOut, Storage argmax, Storage gradX, PoolGeometry g) {
        CpuPool.maxBackward(CpuStorage.of(gradOut), CpuStorage.of(argmax), CpuStorage.of(gradX), g);
    }

    @Override public void avgPool2d(Storage x, Storage out, PoolGeometry g) {
        CpuPool.avg(CpuStorage.of(x), CpuStorage.of(out), g);
    }

    @Override public void avgPool2dBackward(Storage gradOut, Storage gradX, PoolGeometry g) {
        CpuPool.avgBackward(CpuStorage.of(gradOut), CpuStorage.of(gradX), g);
    }

    // ---- indexing ---------------------------------------------------------------------------

    @Override public void indexSelect(Storage x, int outer, int axis, int inner, Storage index, int indexCount, Storage out) {
        CpuIndex.indexSelect(CpuStorage.of(x), outer, axis, inner, CpuStorage.of(index), indexCount, CpuStorage.of(out));
    }

    @Override public void indexSelectBackward(Storage gradOut, int outer, int axis, int inner, Storage index, int indexCount, Storage gradX) {
        CpuIndex.indexSelectBackward(CpuStorage.of(gradOut), outer, axis, inner, CpuStorage.of(index), indexCount, CpuStorage.of(gradX));
    }

    @Override public void gather(Storage x, int[] xShape, int dim, Storage index, int[] indexShape, Storage out) {
        CpuIndex.gather(CpuStorage.of(x), xShape, dim, CpuStorage.of(index), indexShape, CpuStorage.of(out));
    }

    @Override public void gatherBackward(Storage gradOut, int[] indexShape, int dim, Storage index, int[] xShape, Storage gradX) {
        CpuIndex.gatherBackward(CpuStorage.of(gradOut), indexShape, dim, CpuStorage.of(index), xShape, CpuStorage.of(gradX));
    }

    // ---- complex and FFT ------------------------------------------------------------------

    @Override public void complexMul(Storage a, int[] aShape, Storage b, int[] bShape, Storage out, int[] outShape, boolean conjugateB) {
        CpuComplex.mul(CpuStorage.of(a), aShape, CpuStorage.of(b), bShape, CpuStorage.of(out), outShape, conjugateB);
    }

    @Override public void complexAbs(Storage z, Storage out) { CpuComplex.abs(CpuStorage.of(z), CpuStorage.of(out)); }

    @Override public void fft2(Storage x, Storage out, int batch, int h, int w, boolean inverse) {
        CpuFft.fft2(CpuStorage.of(x), CpuStorage.of(out), batch, h, w, inverse);
    }

    @Override public void rfft2(Storage x, Storage out, int batch, int h, int w) {
        CpuFft.rfft2(CpuStorage.of(x), CpuStorage.of(out), batch, h, w);
    }

    @Override public void irfft2(Storage x, Storage out, int batch, int h, int w) {
        CpuFft.irfft2(CpuStorage.of(x), CpuStorage.of(out), batch, h, w);
    }

    // ---- optimiser updates ----------------------------------------------------------------------

    @Override public void adamStep(Storage param, Storage grad, Storage m, Storage v, long step,
                                   float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled) {
        if (step < 1) throw new IllegalArgumentException("Adam steps count from 1, got " + step);
        CpuStorage p = CpuStorage.of(param), g = CpuStorage.of(grad), ms = CpuStorage.of(m), vs = CpuStorage.of(v);
        int n = sameLength("adamStep", p, g, ms, vs);
        float bc1 = (float) (1 - Math.pow(beta1, step)), bc2 = (float) (1 - Math.pow(beta2, step));
        float keep = decoupled ? 1f - lr * weightDecay : 1f, l2 = decoupled ? 0f : weightDecay;
        Parallel.forRange(n, 1 << 15, (from, to) -> {
            for (int i = from; i < to; i++) {
                float pi = p.data[p.base + i];
                float gi = g.data[g.base + i] + l2 * pi;
                pi *= keep;
                float mi = beta1 * ms.data[ms.base + i] + (1f - beta1) * gi;
                float vi = beta2 * vs.data[vs.base + i] + (1f - beta2) * gi * gi;
                ms.data[ms.base + i] = mi;
                vs.data[vs.base + i] = vi;
                p.data[p.base + i] = pi - lr * (mi / bc1) / ((float) Math.sqrt(vi / bc2) + eps);
            }
        });
    }

    @Override public void emaUpdate(Storage ema, Storage param, float rate) {
        CpuStorage e = CpuStorage.of(ema), p = CpuStorage.of(param);
        int n = sameLength("emaUpdate", e, p);
        float w = rate;
        Parallel.forRange(n, 1 << 16, (from, to) -> {
            for (int i = from; i < to; i++) e.data[e.base + i] += w * (p.data[p.base + i] - e.data[e.base + i]);
        });
    }

    private static int sameLength(String op, CpuStorage... s) {
        for (CpuStorage x : s) {
            if (x.length() != s[0].length()) {
                throw new IllegalArgumentException(op + ": storages of different lengths (" + s[0].length() + " and " + x.length() + ")");
            }
        }
        return (int) s[0].length();
    }
}
