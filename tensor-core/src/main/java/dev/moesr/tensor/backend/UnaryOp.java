package dev.moesr.tensor.backend;

/**
 * Elementwise functions of one tensor. {@code a} and {@code b} are the scalar parameters some
 * of them take; the comment names them. Every op has a derivative in
 * {@link Backend#unaryBackward}.
 */
public enum UnaryOp {
    NEG, EXP, LOG, SQRT, RSQRT, ABS, TANH, SIGMOID, SILU, SQUARE, RECIPROCAL,
    /** GELU with the exact erf form. */
    GELU_ERF,
    /** GELU with the tanh approximation. */
    GELU_TANH,
    RELU,
    /** a = negative slope. */
    LEAKY_RELU,
    /** a = beta, b = threshold (linear above beta*x > threshold), as in PyTorch. */
    SOFTPLUS,
    /** a = min, b = max. */
    CLAMP,
    /** x^a. */
    POW_SCALAR,
    /** x + a. */
    ADD_SCALAR,
    /** x * a. */
    MUL_SCALAR,
    /** Soft shrinkage with a = lambda: x - a if x > a, x + a if x < -a, else 0. */
    SOFTSHRINK
}
