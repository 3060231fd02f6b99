package dev.moesr.tensor;

/** Element types. Storage is always float32; a complex element is two floats (real, imaginary), interleaved. */
public enum DType {
    F32(1),
    C64(2);

    /** Number of float32 slots one element occupies. */
    public final int floats;

    DType(int floats) { this.floats = floats; }
}
