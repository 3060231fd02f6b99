package dev.moesr.tensor.backend;

/** Shape of a 2-D max or average pooling over NCHW input (PyTorch floor mode; average counts padding). */
public record PoolGeometry(int batch, int channels, int inH, int inW,
                           int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {

    public PoolGeometry {
        if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1 || padH < 0 || padW < 0) {
            throw new IllegalArgumentException("pooling needs kernel and stride >= 1 and padding >= 0");
        }
        if (padH * 2 > kernelH || padW * 2 > kernelW) {
            throw new IllegalArgumentException("pooling padding must be at most half the kernel");
        }
        if (outH() < 1 || outW() < 1) {
            throw new IllegalArgumentException("input " + inH + "x" + inW + " is too small for a " + kernelH + "x" + kernelW + " pooling window");
        }
    }

    public int outH() { return (inH + 2 * padH - kernelH) / strideH + 1; }

    public int outW() { return (inW + 2 * padW - kernelW) / strideW + 1; }
}
