package dev.moesr.tensor.backend;

/** Reductions over a set of dimensions. ARGMAX and ARGMIN take exactly one dimension and give indices as floats (exact below 2^24). */
public enum ReduceOp {
    SUM, MAX, MIN, ARGMAX, ARGMIN
}
