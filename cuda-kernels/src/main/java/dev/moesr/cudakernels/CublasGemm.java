package dev.moesr.cudakernels;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;

import static org.bytedeco.cuda.global.cublas.CUBLAS_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.CUBLAS_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cublas.CUBLAS_TF32_TENSOR_OP_MATH;
import static org.bytedeco.cuda.global.cublas.cublasCreate_v2;
import static org.bytedeco.cuda.global.cublas.cublasDestroy_v2;
import static org.bytedeco.cuda.global.cublas.cublasGetStatusString;
import static org.bytedeco.cuda.global.cublas.cublasSetMathMode;
import static org.bytedeco.cuda.global.cublas.cublasSetStream_v2;
import static org.bytedeco.cuda.global.cublas.cublasSgemmStridedBatched;

/**
 * Row-major strided batched SGEMM through cuBLAS, which is column-major: a row-major C (m x n)
 * is a column-major C^T (n x m), and C^T = op(B)^T op(A)^T, so B goes first and the roles of
 * m and n swap; a row-major matrix read column-major is its transpose, so the transpose flags
 * carry over unchanged. TF32 tensor-core math when asked, plain FP32 otherwise.
 */
final class CublasGemm implements AutoCloseable {
    private final cublasContext handle = new cublasContext();
    private final FloatPointer alpha = new FloatPointer(1);
    private final FloatPointer beta = new FloatPointer(1);
    private int mathMode = -1;

    CublasGemm(CUstream_st stream) {
        check(cublasCreate_v2(handle), "cublasCreate");
        check(cublasSetStream_v2(handle, stream), "cublasSetStream");
    }

    /** C_b = alpha * op(A_b) op(B_b) + beta * C_b, row-major, as Backend.matmul; m, n, k >= 1. */
    void gemm(long a, long b, long c, int batch, int m, int n, int k, boolean transA, boolean transB,
              long strideA, long strideB, long strideC, float alphaValue, float betaValue, boolean tf32) {
        int mode = tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
        if (mode != mathMode) {
            check(cublasSetMathMode(handle, mode), "cublasSetMathMode");
            mathMode = mode;
        }
        alpha.put(0, alphaValue);
        beta.put(0, betaValue);
        int lda = transA ? m : k;   // row-major leading dimension of A as stored
        int ldb = transB ? k : n;
        check(cublasSgemmStridedBatched(handle,
                transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                n, m, k, alpha,
                DevicePointers.floats(b), ldb, strideB,
                DevicePointers.floats(a), lda, strideA,
                beta, DevicePointers.floats(c), n, strideC, batch), "cublasSgemmStridedBatched");
    }

    static void check(int status, String call) {
        if (status != CUBLAS_STATUS_SUCCESS) {
            BytePointer s = cublasGetStatusString(status);
            throw new CudaException(call + " failed: cuBLAS status " + status + (s == null || s.isNull() ? "" : " (" + s.getString() + ")"));
        }
    }

    @Override public void close() {
        cublasDestroy_v2(handle);
        alpha.close();
        beta.close();
    }
}
