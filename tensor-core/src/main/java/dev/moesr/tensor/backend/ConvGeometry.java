package dev.moesr.tensor.backend;

/**
 * Shape of a 2-D convolution over NCHW input with an (outChannels, inChannels/groups, kh, kw) weight.
 * Output size follows PyTorch: (in + 2*pad - dilation*(k-1) - 1) / stride + 1.
 */
public record ConvGeometry(int batch, int inChannels, int inH, int inW,
                           int outChannels, int kernelH, int kernelW,
                           int strideH, int strideW, int padH, int padW,
                           int dilationH, int dilationW, int groups) {

    public ConvGeometry {
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("groups=" + groups + " must divide in channels " + inChannels + " and out channels " + outChannels);
        }
        if (strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || padH < 0 || padW < 0) {
            throw new IllegalArgumentException("stride and dilation must be >= 1 and padding >= 0");
        }
        // (the fields are not assigned yet inside a compact constructor, so outH() cannot be called here;
        // a negative span means the kernel does not fit even once, which integer division would hide)
        int spanH = inH + 2 * padH - dilationH * (kernelH - 1) - 1;
        int spanW = inW + 2 * padW - dilationW * (kernelW - 1) - 1;
        if (spanH < 0 || spanW < 0) {
            throw new IllegalArgumentException("input " + inH + "x" + inW + " is too small for a " + kernelH + "x" + kernelW
                    + " kernel with padding " + padH + "," + padW + " and dilation " + dilationH + "," + dilationW);
        }
    }

    public int outH() { return (inH + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1; }

    public int outW() { return (inW + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1; }

    /** Multiply-adds times two, the usual FLOP count of the forward pass. */
    public double flops() {
        return 2.0 * batch * outChannels * outH() * outW() * (inChannels / (double) groups) * kernelH * kernelW;
    }
}
