package dev.moesr.tensor.cpu;

/** The strided n-d copy behind permute, slice, cat, pad, expand and the complex views. */
final class CpuCopy {
    private CpuCopy() {}

    static void copy(CpuStorage src, long[] srcStrides, CpuStorage dst, long[] dstStrides, int[] shape) {
        float[] s = src.data, d = dst.data;
        StridedLoop.of(shape, dstStrides, srcStrides).run(new long[] {dst.base, src.base}, (off, step, n) -> {
            int o = (int) off[0], i = (int) off[1];
            int so = (int) step[0], si = (int) step[1];
            if (so == 1 && si == 1) {
                System.arraycopy(s, i, d, o, n);
                return;
            }
            for (int j = 0; j < n; j++, o += so, i += si) d[o] = s[i];
        });
    }
}
