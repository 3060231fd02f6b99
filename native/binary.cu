// Broadcast binary ops and where. The host passes the output shape and, per input, strides
// over that shape (0 where the input broadcasts), after merging dimensions that are contiguous
// for all operands. CPU reference: CpuElementwise.binary / .where.
#include "common.cuh"

// Op codes: CudaBackend.binaryCode maps dev.moesr.tensor.backend.BinaryOp onto these.
enum MoesrBinaryOp {
    BOP_ADD = 0,
    BOP_SUB = 1,
    BOP_MUL = 2,
    BOP_DIV = 3,
    BOP_POW = 4,
    BOP_MAX = 5,
    BOP_MIN = 6,
    BOP_EQ = 7,
    BOP_GT = 8,
    BOP_LT = 9,
    BOP_GE = 10,
    BOP_LE = 11,
};

// Plain IEEE float operations without contraction into FMA, as Java computes them; POW in
// double (Java's Math.pow) rounded once; MAX/MIN with Java's NaN and signed-zero rules.
static __device__ __forceinline__ float moesr_binary_f(int op, float a, float b) {
    switch (op) {
        case BOP_ADD: return __fadd_rn(a, b);
        case BOP_SUB: return __fsub_rn(a, b);
        case BOP_MUL: return __fmul_rn(a, b);
        case BOP_DIV: return __fdiv_rn(a, b);
        case BOP_POW: return (float)moesr_jpow((double)a, (double)b);
        case BOP_MAX: return moesr_jmaxf(a, b);
        case BOP_MIN: return moesr_jminf(a, b);
        case BOP_EQ: return a == b ? 1.0f : 0.0f;
        case BOP_GT: return a > b ? 1.0f : 0.0f;
        case BOP_LT: return a < b ? 1.0f : 0.0f;
        case BOP_GE: return a >= b ? 1.0f : 0.0f;
        case BOP_LE: return a <= b ? 1.0f : 0.0f;
        default: return __int_as_float(0x7fc00000);   // unknown op: NaN
    }
}

// out[i] = a[aOff(i)] (op) b[bOff(i)] for i over `shape` (out is contiguous).
extern "C" __global__ void moesr_binary(int op, const float* a, const float* b, float* out, long long n,
                                        int rank, Dims shape, Dims aStrides, Dims bStrides) {
    MOESR_GRID_STRIDE(i, n) {
        long long ia, ib;
        moesr_offset2(i, rank, shape, aStrides, bStrides, ia, ib);
        out[i] = moesr_binary_f(op, a[ia], b[ib]);
    }
}

// a and b contiguous and of out's length, all 16-byte aligned: float4s (the host runs
// moesr_binary on the tail).
extern "C" __global__ void moesr_binary4(int op, const float4* a, const float4* b, float4* out, long long n4) {
    MOESR_GRID_STRIDE(i, n4) {
        float4 u = a[i], v = b[i];
        out[i] = make_float4(moesr_binary_f(op, u.x, v.x), moesr_binary_f(op, u.y, v.y),
                             moesr_binary_f(op, u.z, v.z), moesr_binary_f(op, u.w, v.w));
    }
}

// out[i] = cond != 0 ? a : b, all three broadcast to `shape` (a NaN condition counts as true).
extern "C" __global__ void moesr_where(const float* cond, const float* a, const float* b, float* out,
                                       long long n, int rank, Dims shape, Dims condStrides,
                                       Dims aStrides, Dims bStrides) {
    MOESR_GRID_STRIDE(i, n) {
        long long ic, ia, ib;
        moesr_offset3(i, rank, shape, condStrides, aStrides, bStrides, ic, ia, ib);
        out[i] = cond[ic] != 0.0f ? a[ia] : b[ib];
    }
}
