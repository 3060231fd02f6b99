package dev.moesr.tensor.cpu;

/** Complex products and moduli on interleaved storage. */
final class CpuComplex {
    private CpuComplex() {}

    static void mul(CpuStorage a, int[] aShape, CpuStorage b, int[] bShape, CpuStorage out, int[] outShape, boolean conjugateB) {
        throw new UnsupportedOperationException("complex mul not written yet");
    }

    static void abs(CpuStorage z, CpuStorage out) {
        throw new UnsupportedOperationException("complex abs not written yet");
    }
}
