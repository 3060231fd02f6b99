package dev.moesr.tensor.cpu;

/** index select, gather and their adjoints. */
final class CpuIndex {
    private CpuIndex() {}

    static void indexSelect(CpuStorage x, int outer, int axis, int inner, CpuStorage index, int indexCount, CpuStorage out) {
        throw new UnsupportedOperationException("index select not written yet");
    }

    static void indexSelectBackward(CpuStorage gradOut, int outer, int axis, int inner, CpuStorage index, int indexCount, CpuStorage gradX) {
        throw new UnsupportedOperationException("index select backward not written yet");
    }

    static void gather(CpuStorage x, int[] xShape, int dim, CpuStorage index, int[] indexShape, CpuStorage out) {
        throw new UnsupportedOperationException("gather not written yet");
    }

    static void gatherBackward(CpuStorage gradOut, int[] indexShape, int dim, CpuStorage index, int[] xShape, CpuStorage gradX) {
        throw new UnsupportedOperationException("gather backward not written yet");
    }
}
