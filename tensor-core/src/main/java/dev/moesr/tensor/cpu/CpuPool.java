package dev.moesr.tensor.cpu;

import dev.moesr.tensor.backend.PoolGeometry;

/** Max and average pooling. */
final class CpuPool {
    private CpuPool() {}

    static void max(CpuStorage x, CpuStorage out, CpuStorage argmax, PoolGeometry g) {
        throw new UnsupportedOperationException("max pool not written yet");
    }

    static void maxBackward(CpuStorage gradOut, CpuStorage argmax, CpuStorage gradX, PoolGeometry g) {
        throw new UnsupportedOperationException("max pool backward not written yet");
    }

    static void avg(CpuStorage x, CpuStorage out, PoolGeometry g) {
        throw new UnsupportedOperationException("avg pool not written yet");
    }

    static void avgBackward(CpuStorage gradOut, CpuStorage gradX, PoolGeometry g) {
        throw new UnsupportedOperationException("avg pool backward not written yet");
    }
}
