package dev.moesr.tensor.cpu;

import dev.moesr.tensor.backend.ConvGeometry;

/** 2-D convolution: forward, backward data, backward filter. */
final class CpuConv {
    private CpuConv() {}

    static void forward(CpuStorage x, CpuStorage w, CpuStorage out, ConvGeometry g) {
        throw new UnsupportedOperationException("conv2d not written yet");
    }

    static void backwardData(CpuStorage gradOut, CpuStorage w, CpuStorage gradX, ConvGeometry g) {
        throw new UnsupportedOperationException("conv2d backward data not written yet");
    }

    static void backwardFilter(CpuStorage x, CpuStorage gradOut, CpuStorage gradW, ConvGeometry g) {
        throw new UnsupportedOperationException("conv2d backward filter not written yet");
    }
}
