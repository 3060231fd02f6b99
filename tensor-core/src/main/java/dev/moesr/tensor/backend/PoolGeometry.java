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
        // a compact constructor runs before the fields are set: compute from the parameters, not outH()
        if (outSize(inH, kernelH, strideH, padH) < 1 || outSize(inW, kernelW, strideW, padW) < 1) {
            throw new IllegalArgumentException("input " + inH + "x" + inW + " is too small for a " + kernelH + "x" + kernelW + " pooling window");
        }
    }

    public int outH() { return outSize(inH, kernelH, strideH, padH); }

    public int outW() { return outSize(inW, kernelW, strideW, padW); }

    private static int outSize(int in, int kernel, int stride, int pad) {
        int span = in + 2 * pad - kernel;
        return span < 0 ? 0 : span / stride + 1;   // floor mode; a window larger than the padded input gives nothing
    }
}
