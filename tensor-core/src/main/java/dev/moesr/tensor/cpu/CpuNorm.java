package dev.moesr.tensor.cpu;

/**
 * Group normalisation (optionally fused with SiLU) and its backward; see Backend.groupNorm for
 * the exact semantics. Parallel over (sample, group): one pass over a group for its statistics,
 * one for its output. Sums accumulate in double.
 */
final class CpuNorm {
    private CpuNorm() {}

    /** Elements per parallel chunk, roughly: small groups are batched together. */
    private static final int GRAIN_ELEMENTS = 1 << 15;

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
                    if (silu) {
                        for (int k = 0; k < spatial; k++) ov[o + k] = silu((xv[i + k] - mu) * scale + shiftOut);
                    } else {
                        for (int k = 0; k < spatial; k++) ov[o + k] = (xv[i + k] - mu) * scale + shiftOut;
                    }
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
                    for (int k = 0; k < spatial; k++) {
                        float centred = xv[i + k] - mu;
                        float ga = silu ? siluGrad(gv[gi + k], centred * scale + shiftOut) : gv[gi + k];
                        sGa += ga;
                        sGaXhat += ga * (centred * r);
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
                    for (int k = 0; k < spatial; k++) {
                        float centred = xv[i + k] - mu;
                        float ga = silu ? siluGrad(gv[gi + k], centred * scale + shiftOut) : gv[gi + k];
                        ov[o + k] = r * (ga * w - m1 - centred * r * m2);
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

    /** a * sigmoid(a), evaluated in double and rounded once, as the SILU unary op. */
    private static float silu(float a) {
        return (float) (a * CpuElementwise.sigmoid(a));
    }

    /** g * silu'(a) = g * s * (1 + a * (1 - s)) with s = sigmoid(a). */
    private static float siluGrad(float g, float a) {
        double s = CpuElementwise.sigmoid(a);
        return (float) (g * (s * (1 + a * (1 - s))));
    }
}
