package dev.moesr.tensor.cpu;

/**
 * Group normalisation (optionally fused with SiLU) and its backward; see Backend.groupNorm for
 * the exact semantics. Parallel over (sample, group): one pass over a group for its statistics,
 * one for its output (the SiLU in float, vectorised: {@link SiluKernel}). Sums accumulate in
 * double.
 */
final class CpuNorm {
    private CpuNorm() {}

    /** Elements per parallel chunk, roughly: small groups are batched together. */
    private static final int GRAIN_ELEMENTS = 1 << 15;
    /** Positions of one channel whose SiLU gradient is computed at once (stays in L1). */
    private static final int CHUNK = 2048;
    private static final SiluKernel SILU = SiluKernel.best();

    static void groupNorm(CpuStorage x, int n, int channels, long spatialL, int groups, CpuStorage weight, CpuStorage bias,
                          float eps, boolean silu, CpuStorage out, CpuStorage mean, CpuStorage rstd) {
        int spatial = Math.toIntExact(spatialL);
        int perGroup = channels / groups;
        int groupSize = perGroup * spatial;
        float[] xv = x.data, ov = out.data, mv = mean.data, rv = rstd.data;
        int xb = x.base, ob = out.base, mb = mean.base, rb = rstd.base;
        Parallel.forRange(n * groups, Math.max(1, GRAIN_ELEMENTS / Math.max(1, groupSize)), (from, to) -> {
            for (int ng = from; ng < to; ng++) {
                int start = ng * groupSize;
                // shifted sums: d = x - x[first] keeps E[d^2] - E[d]^2 free of cancellation by a common offset
                double shift = groupSize > 0 ? xv[xb + start] : 0, s1 = 0, s2 = 0;
                for (int i = xb + start, end = i + groupSize; i < end; i++) {
                    double d = xv[i] - shift;
                    s1 += d;
                    s2 += d * d;
                }
                double m = groupSize > 0 ? s1 / groupSize : 0;
                double var = groupSize > 0 ? Math.max(0, s2 / groupSize - m * m) : 0;
                float mu = (float) (shift + m);
                float r = (float) (1 / Math.sqrt(var + eps));
                mv[mb + ng] = mu;
                rv[rb + ng] = r;
                int firstChannel = ng % groups * perGroup;
                for (int j = 0; j < perGroup; j++) {
                    int c = firstChannel + j;
                    float scale = weight == null ? r : r * weight.data[weight.base + c];
                    float shiftOut = bias == null ? 0 : bias.data[bias.base + c];
                    int i = xb + start + j * spatial, o = ob + start + j * spatial;
                    for (int k = 0; k < spatial; k++) ov[o + k] = (xv[i + k] - mu) * scale + shiftOut;
                    if (silu) SILU.siluInPlace(ov, o, spatial);
                }
            }
        });
    }

    static void groupNormBackward(CpuStorage gradOut, CpuStorage x, CpuStorage mean, CpuStorage rstd, CpuStorage weight, CpuStorage bias,
                                  int n, int channels, long spatialL, int groups, boolean silu,
                                  CpuStorage gradX, CpuStorage gradWeight, CpuStorage gradBias) {
        int spatial = Math.toIntExact(spatialL);
        int perGroup = channels / groups;
        int groupSize = perGroup * spatial;
        float[] xv = x.data, gv = gradOut.data;
        int xb = x.base, gb = gradOut.base;
        // per (sample, channel): sum of ga and of ga * xhat; they give both the parameter
        // gradients (summed over samples) and the group means that grad x needs
        double[] sumGa = new double[n * channels], sumGaXhat = new double[n * channels];
        Parallel.forRange(n * groups, Math.max(1, GRAIN_ELEMENTS / Math.max(1, groupSize)), (from, to) -> {
            float[] ga = new float[Math.min(spatial, CHUNK)];   // the gradient of the pre-activation, a chunk at a time
            for (int ng = from; ng < to; ng++) {
                int start = ng * groupSize;
                float mu = mean.data[mean.base + ng], r = rstd.data[rstd.base + ng];
                int firstChannel = ng % groups * perGroup;
                int sampleChannel = ng / groups * channels + firstChannel;
                double groupGa = 0, groupGaXhat = 0;   // of ga * weight, for grad x
                for (int j = 0; j < perGroup; j++) {
                    int c = firstChannel + j;
                    float w = weight == null ? 1 : weight.data[weight.base + c];
                    float scale = r * w, shiftOut = bias == null ? 0 : bias.data[bias.base + c];
                    double sGa = 0, sGaXhat = 0;
                    int i = xb + start + j * spatial, gi = gb + start + j * spatial;
                    for (int k0 = 0; k0 < spatial; k0 += CHUNK) {
                        int len = Math.min(CHUNK, spatial - k0);
                        float[] gaRow = gradOfPre(silu, xv, i + k0, gv, gi + k0, len, mu, scale, shiftOut, ga);
                        int gaOff = silu ? 0 : gi + k0;
                        for (int k = 0; k < len; k++) {
                            float g = gaRow[gaOff + k];
                            sGa += g;
                            sGaXhat += g * ((xv[i + k0 + k] - mu) * r);
                        }
                    }
                    sumGa[sampleChannel + j] = sGa;
                    sumGaXhat[sampleChannel + j] = sGaXhat;
                    groupGa += sGa * w;
                    groupGaXhat += sGaXhat * w;
                }
                if (gradX == null || groupSize == 0) continue;
                float m1 = (float) (groupGa / groupSize), m2 = (float) (groupGaXhat / groupSize);
                float[] ov = gradX.data;
                for (int j = 0; j < perGroup; j++) {
                    int c = firstChannel + j;
                    float w = weight == null ? 1 : weight.data[weight.base + c];
                    float scale = r * w, shiftOut = bias == null ? 0 : bias.data[bias.base + c];
                    int i = xb + start + j * spatial, gi = gb + start + j * spatial, o = gradX.base + start + j * spatial;
                    for (int k0 = 0; k0 < spatial; k0 += CHUNK) {
                        int len = Math.min(CHUNK, spatial - k0);
                        float[] gaRow = gradOfPre(silu, xv, i + k0, gv, gi + k0, len, mu, scale, shiftOut, ga);
                        int gaOff = silu ? 0 : gi + k0;
                        for (int k = 0; k < len; k++) {
                            float centred = xv[i + k0 + k] - mu;
                            ov[o + k0 + k] = r * (gaRow[gaOff + k] * w - m1 - centred * r * m2);
                        }
                    }
                }
            }
        });
        for (int c = 0; c < channels; c++) {
            double bSum = 0, wSum = 0;
            for (int b = 0; b < n; b++) {
                bSum += sumGa[b * channels + c];
                wSum += sumGaXhat[b * channels + c];
            }
            if (gradBias != null) gradBias.data[gradBias.base + c] = (float) bSum;
            if (gradWeight != null) gradWeight.data[gradWeight.base + c] = (float) wSum;
        }
    }

    /**
     * The gradient of the pre-activation for {@code len} elements: with SiLU,
     * {@code g * silu'((x - mu) * scale + shift)} written into {@code scratch} (returned, from
     * index 0); without, gradOut itself (returned, the values at {@code gOff}).
     */
    private static float[] gradOfPre(boolean silu, float[] xv, int xOff, float[] gv, int gOff, int len,
                                     float mu, float scale, float shift, float[] scratch) {
        if (!silu) return gv;
        for (int k = 0; k < len; k++) scratch[k] = (xv[xOff + k] - mu) * scale + shift;
        SILU.siluGradInPlace(scratch, 0, gv, gOff, len);
        return scratch;
    }
}
