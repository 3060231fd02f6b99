package dev.moesr.tensor.cpu;

/** Complex products and moduli on interleaved (re, im) storage, computed in double and rounded once. */
final class CpuComplex {
    private CpuComplex() {}

    static void mul(CpuStorage a, int[] aShape, CpuStorage b, int[] bShape, CpuStorage out, int[] outShape, boolean conjugateB) {
        float[] av = a.data, bv = b.data, ov = out.data;
        double sign = conjugateB ? -1 : 1;
        // the loop walks complex elements; float index = base + 2 * element offset
        StridedLoop loop = StridedLoop.of(outShape, StridedLoop.contiguousStrides(outShape),
                StridedLoop.broadcastStrides(aShape, outShape), StridedLoop.broadcastStrides(bShape, outShape));
        loop.run(new long[3], (off, step, n) -> {
            int o = out.base + 2 * (int) off[0], i = a.base + 2 * (int) off[1], j = b.base + 2 * (int) off[2];
            int so = 2 * (int) step[0], si = 2 * (int) step[1], sj = 2 * (int) step[2];
            for (int k = 0; k < n; k++, o += so, i += si, j += sj) {
                double ar = av[i], ai = av[i + 1], br = bv[j], bi = sign * bv[j + 1];
                ov[o] = (float) (ar * br - ai * bi);
                ov[o + 1] = (float) (ar * bi + ai * br);
            }
        });
    }

    static void abs(CpuStorage z, CpuStorage out) {
        float[] zv = z.data, ov = out.data;
        int zb = z.base, ob = out.base;
        Parallel.forRange((int) out.length(), 16384, (from, to) -> {
            for (int k = from; k < to; k++) {
                double re = zv[zb + 2 * k], im = zv[zb + 2 * k + 1];
                ov[ob + k] = (float) Math.sqrt(re * re + im * im);
            }
        });
    }
}
