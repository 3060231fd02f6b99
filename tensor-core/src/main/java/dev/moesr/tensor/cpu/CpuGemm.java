package dev.moesr.tensor.cpu;

/** Batched single-precision GEMM. */
public final class CpuGemm {
    private CpuGemm() {}

    static void batched(CpuStorage a, CpuStorage b, CpuStorage c, int batch, int m, int n, int k,
                        boolean transA, boolean transB, long strideA, long strideB, long strideC, float alpha, float beta) {
        throw new UnsupportedOperationException("matmul not written yet");
    }
}
