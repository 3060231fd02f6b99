package dev.moesr.tensor.cpu;

/** Philox uniform and normal streams; the CUDA kernel in native/ computes the same bits. */
final class CpuRandom {
    private CpuRandom() {}

    static void uniform(CpuStorage out, long seed, long counter) {
        throw new UnsupportedOperationException("random uniform not written yet");
    }

    static void normal(CpuStorage out, long seed, long counter) {
        throw new UnsupportedOperationException("random normal not written yet");
    }
}
