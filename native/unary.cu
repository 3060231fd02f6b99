// Elementwise functions of one tensor and their derivatives, with the same math as the CPU
// reference (CpuElementwise.f and .df): evaluated in double and rounded once to float, with
// the same formulas (the Numerical Recipes erf, the same sigmoid split), so CPU and GPU agree
// to the last bit or one ulp. ADD_SCALAR and MUL_SCALAR are plain float operations. SIGMOID
// and SILU, the activations on the models' hot path, are float with the hardware exponential
// (a few ulps): double exponentials made them compute-bound at a third of the copy bandwidth.
#include "common.cuh"

// Op codes: CudaBackend.unaryCode maps dev.moesr.tensor.backend.UnaryOp onto these; a test
// (UnaryCodesTest) reads this enum to keep the two in step.
enum MoesrUnaryOp {
    UOP_NEG = 0,
    UOP_EXP = 1,
    UOP_LOG = 2,
    UOP_SQRT = 3,
    UOP_RSQRT = 4,
    UOP_ABS = 5,
    UOP_TANH = 6,
    UOP_SIGMOID = 7,
    UOP_SILU = 8,
    UOP_SQUARE = 9,
    UOP_RECIPROCAL = 10,
    UOP_GELU_ERF = 11,
    UOP_GELU_TANH = 12,
    UOP_RELU = 13,
    UOP_LEAKY_RELU = 14,
    UOP_SOFTPLUS = 15,
    UOP_CLAMP = 16,
    UOP_POW_SCALAR = 17,
    UOP_ADD_SCALAR = 18,
    UOP_MUL_SCALAR = 19,
    UOP_SOFTSHRINK = 20,
};

// The constants are computed as the Java reference computes them (not typed in), so they
// round identically.
struct UnaryConsts {
    double sqrt2OverPi;   // Math.sqrt(2 / Math.PI)
    double invSqrt2;      // 1 / Math.sqrt(2)
    double invSqrt2Pi;    // 1 / Math.sqrt(2 * Math.PI)
};

static __device__ __forceinline__ UnaryConsts moesr_unary_consts() {
    const double pi = 3.141592653589793;   // Math.PI
    UnaryConsts c;
    c.sqrt2OverPi = sqrt(2.0 / pi);
    c.invSqrt2 = 1.0 / sqrt(2.0);
    c.invSqrt2Pi = 1.0 / sqrt(2.0 * pi);
    return c;
}

static __device__ __forceinline__ double moesr_sigmoid(double x) {
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

// erf from the Chebyshev fit of erfc in Numerical Recipes (as CpuElementwise.erf).
static __device__ __forceinline__ double moesr_erf_nr(double x) {
    double z = fabs(x);
    double t = 1.0 / (1.0 + 0.5 * z);
    double erfc = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
            + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
            + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? 1.0 - erfc : erfc - 1.0;
}

// Sigmoid in float with the hardware exponential and division (__expf, __fdividef: a few ulps
// for moderate x; exactly 0 and 1 far out, NaN stays NaN).
static __device__ __forceinline__ float moesr_sigmoidf(float x) {
    return __fdividef(1.0f, __fadd_rn(1.0f, __expf(-x)));
}

static __device__ __forceinline__ float moesr_unary_f(int op, float xf, float a, float b, const UnaryConsts& c) {
    double x = xf;
    double y;
    switch (op) {
        case UOP_NEG: y = -x; break;
        case UOP_EXP: y = exp(x); break;
        case UOP_LOG: y = log(x); break;
        case UOP_SQRT: y = sqrt(x); break;
        case UOP_RSQRT: y = 1.0 / sqrt(x); break;
        case UOP_ABS: y = fabs(x); break;
        case UOP_TANH: y = tanh(x); break;
        case UOP_SIGMOID: return moesr_sigmoidf(xf);
        case UOP_SILU: return __fdividef(xf, __fadd_rn(1.0f, __expf(-xf)));
        case UOP_SQUARE: y = x * x; break;
        case UOP_RECIPROCAL: y = 1.0 / x; break;
        case UOP_GELU_ERF: y = 0.5 * x * (1.0 + moesr_erf_nr(x * c.invSqrt2)); break;
        case UOP_GELU_TANH: y = 0.5 * x * (1.0 + tanh(c.sqrt2OverPi * (x + 0.044715 * x * x * x))); break;
        case UOP_RELU: y = moesr_jmax(x, 0.0); break;   // Math.max(x, 0): NaN stays NaN
        case UOP_LEAKY_RELU: y = x > 0 ? x : (double)a * x; break;
        case UOP_SOFTPLUS: y = (double)a * x > (double)b ? x : log1p(exp((double)a * x)) / (double)a; break;
        case UOP_CLAMP: y = moesr_jmin(moesr_jmax(x, (double)a), (double)b); break;
        case UOP_POW_SCALAR: y = moesr_jpow(x, (double)a); break;
        case UOP_ADD_SCALAR: return __fadd_rn(xf, a);   // float addition, as the CPU does
        case UOP_MUL_SCALAR: return __fmul_rn(xf, a);
        case UOP_SOFTSHRINK: y = x > a ? x - a : x < -a ? x + a : 0.0; break;
        default: y = __longlong_as_double(0x7ff8000000000000LL); break;   // unknown op: NaN, never silent garbage
    }
    return (float)y;
}

// f'(x) in double.
static __device__ __forceinline__ double moesr_unary_df(int op, float xf, float a, float b, const UnaryConsts& c) {
    double x = xf;
    switch (op) {
        case UOP_NEG: return -1.0;
        case UOP_EXP: return exp(x);
        case UOP_LOG: return 1.0 / x;
        case UOP_SQRT: return 0.5 / sqrt(x);
        case UOP_RSQRT: return -0.5 / (x * sqrt(x));
        case UOP_ABS: return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
        case UOP_TANH: { double t = tanh(x); return 1.0 - t * t; }
        case UOP_SIGMOID: { float s = moesr_sigmoidf(xf); return (double)__fmul_rn(s, __fsub_rn(1.0f, s)); }
        case UOP_SILU: { float s = moesr_sigmoidf(xf); return (double)__fmul_rn(s, __fadd_rn(1.0f, __fmul_rn(xf, __fsub_rn(1.0f, s)))); }
        case UOP_SQUARE: return 2.0 * x;
        case UOP_RECIPROCAL: return -1.0 / (x * x);
        case UOP_GELU_ERF:
            return 0.5 * (1.0 + moesr_erf_nr(x * c.invSqrt2)) + x * c.invSqrt2Pi * exp(-0.5 * x * x);
        case UOP_GELU_TANH: {
            double u = c.sqrt2OverPi * (x + 0.044715 * x * x * x);
            double t = tanh(u);
            return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c.sqrt2OverPi * (1.0 + 3.0 * 0.044715 * x * x);
        }
        case UOP_RELU: return x > 0 ? 1.0 : 0.0;
        case UOP_LEAKY_RELU: return x > 0 ? 1.0 : (double)a;
        case UOP_SOFTPLUS: return (double)a * x > (double)b ? 1.0 : moesr_sigmoid((double)a * x);
        case UOP_CLAMP: return x >= a && x <= b ? 1.0 : 0.0;
        // a - 1 is float arithmetic in the Java reference, then widened
        case UOP_POW_SCALAR: return a == 0.0f ? 0.0 : (double)a * moesr_jpow(x, (double)__fsub_rn(a, 1.0f));
        case UOP_ADD_SCALAR: return 1.0;
        case UOP_MUL_SCALAR: return (double)a;
        case UOP_SOFTSHRINK: return x > a || x < -a ? 1.0 : 0.0;
        default: return __longlong_as_double(0x7ff8000000000000LL);
    }
}

// out[i] = f(x[i]); x and out may be the same storage.
extern "C" __global__ void moesr_unary(int op, const float* x, float* out, long long n, float a, float b) {
    UnaryConsts c = moesr_unary_consts();
    MOESR_GRID_STRIDE(i, n) out[i] = moesr_unary_f(op, x[i], a, b, c);
}

// The same on float4s (x and out 16-byte aligned; the host runs the scalar kernel on the tail).
extern "C" __global__ void moesr_unary4(int op, const float4* x, float4* out, long long n4, float a, float b) {
    UnaryConsts c = moesr_unary_consts();
    MOESR_GRID_STRIDE(i, n4) {
        float4 v = x[i];
        out[i] = make_float4(moesr_unary_f(op, v.x, a, b, c), moesr_unary_f(op, v.y, a, b, c),
                             moesr_unary_f(op, v.z, a, b, c), moesr_unary_f(op, v.w, a, b, c));
    }
}

// gradIn[i] = gradOut[i] * f'(x[i]), the product in double, rounded once (as the CPU).
extern "C" __global__ void moesr_unary_backward(int op, const float* x, const float* gradOut, float* gradIn,
                                                long long n, float a, float b) {
    UnaryConsts c = moesr_unary_consts();
    // a zero derivative passes exactly 0 back, even for an infinite or NaN gradient (as on the CPU)
    MOESR_GRID_STRIDE(i, n) {
        double d = moesr_unary_df(op, x[i], a, b, c);
        gradIn[i] = d == 0.0 ? 0.0f : (float)((double)gradOut[i] * d);
    }
}
