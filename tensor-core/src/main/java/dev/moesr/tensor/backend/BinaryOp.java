package dev.moesr.tensor.backend;

/** Elementwise functions of two broadcast tensors. Comparisons give 1 or 0. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, POW, MAX, MIN, EQ, GT, LT, GE, LE
}
