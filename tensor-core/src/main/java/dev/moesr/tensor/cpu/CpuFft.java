package dev.moesr.tensor.cpu;

/** Orthonormal 2-D FFTs of any size. */
final class CpuFft {
    private CpuFft() {}

    static void fft2(CpuStorage x, CpuStorage out, int batch, int h, int w, boolean inverse) {
        throw new UnsupportedOperationException("fft2 not written yet");
    }

    static void rfft2(CpuStorage x, CpuStorage out, int batch, int h, int w) {
        throw new UnsupportedOperationException("rfft2 not written yet");
    }

    static void irfft2(CpuStorage x, CpuStorage out, int batch, int h, int w) {
        throw new UnsupportedOperationException("irfft2 not written yet");
    }
}
