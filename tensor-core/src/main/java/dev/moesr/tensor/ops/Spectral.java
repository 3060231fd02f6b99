package dev.moesr.tensor.ops;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.Tensor;

import java.util.Arrays;

/**
 * Differentiable orthonormal 2-D FFTs over the last two dimensions (numpy/PyTorch norm="ortho");
 * leading dimensions are a batch. Gradients follow the (dL/dRe, dL/dIm) convention of
 * {@link ComplexOps}: fft2 and ifft2 are unitary, so each one's backward is the other.
 */
public final class Spectral {
    private Spectral() {}

    /** fft2 (or ifft2) of a complex tensor; a real input is taken as complex with zero imaginary part. */
    public static Tensor fft2(Tensor x, boolean inverse) {
        String name = inverse ? "ifft2" : "fft2";
        if (!x.isComplex()) return fft2(ComplexOps.complex(x, Tensor.zerosLike(x)), inverse);
        int h = planeDim(x, -2, name), w = planeDim(x, -1, name);
        Tensor out = Tensor.empty(x.backend(), DType.C64, x.dims());
        if (x.numel() > 0) x.backend().fft2(x.storage(), out.storage(), batch(x), h, w, inverse);
        return out.recordedAs(name, g -> new Tensor[] {fft2(g, !inverse)}, x);
    }

    /** Real [..., h, w] to complex [..., h, w/2+1], the non-negative frequencies of the last dimension. */
    public static Tensor rfft2(Tensor x) {
        if (x.isComplex()) throw new IllegalArgumentException("rfft2 takes a real tensor, got a complex one of shape " + x.shape() + "; use fft2");
        int h = planeDim(x, -2, "rfft2"), w = planeDim(x, -1, "rfft2");
        int[] outShape = x.dims();
        outShape[outShape.length - 1] = w / 2 + 1;
        Tensor out = Tensor.empty(x.backend(), DType.C64, outShape);
        if (x.numel() > 0) x.backend().rfft2(x.storage(), out.storage(), batch(x), h, w);
        // adjoint: the real part of ifft2 of the zero-extended spectrum, which is irfft2 of the
        // spectrum with the columns that irfft2 mirrors halved
        return out.recordedAs("rfft2", g -> new Tensor[] {irfft2(weightMirroredColumns(g, w, 0.5f), w)}, x);
    }

    /**
     * Complex [..., h, w/2+1] to real [..., h, w], like numpy.fft.irfft2(x, s=(h, w), norm="ortho"):
     * the imaginary parts of the self-conjugate columns (0, and w/2 for even w) are ignored.
     */
    public static Tensor irfft2(Tensor x, int w) {
        if (!x.isComplex()) throw new IllegalArgumentException("irfft2 takes a complex tensor, got a real one of shape " + x.shape());
        int h = planeDim(x, -2, "irfft2");
        if (w < 1) throw new IllegalArgumentException("irfft2 output width must be at least 1, got " + w);
        if (x.dim(-1) != w / 2 + 1) {
            throw new IllegalArgumentException("irfft2 to width " + w + " needs " + (w / 2 + 1) + " columns (w/2+1), got shape " + x.shape()
                    + "; pass the width of the signal that rfft2 transformed");
        }
        int[] outShape = x.dims();
        outShape[outShape.length - 1] = w;
        Tensor out = Tensor.empty(x.backend(), DType.F32, outShape);
        if (out.numel() > 0) x.backend().irfft2(x.storage(), out.storage(), batch(x), h, w);
        // adjoint: rfft2 of the gradient, with the columns that irfft2 mirrors counted twice
        return out.recordedAs("irfft2", g -> new Tensor[] {weightMirroredColumns(rfft2(g), w, 2f)}, x);
    }

    /** z [..., w/2+1] times {@code factor} on columns 1 .. ceil(w/2)-1, those that have a mirror image in a width-w spectrum. */
    private static Tensor weightMirroredColumns(Tensor z, int w, float factor) {
        float[] v = new float[w / 2 + 1];
        Arrays.fill(v, 1f);
        for (int k = 1; k <= (w + 1) / 2 - 1; k++) v[k] = factor;
        Tensor weights = Tensor.of(z.device(), v, v.length);
        try {
            return ComplexOps.mul(z, weights);
        } finally {
            weights.release();
        }
    }

    private static int planeDim(Tensor x, int axis, String op) {
        if (x.rank() < 2) throw new IllegalArgumentException(op + " transforms the last two dimensions and needs rank >= 2, got shape " + x.shape());
        int d = x.dim(axis);
        if (d < 1) throw new IllegalArgumentException(op + " needs the last two dimensions to be at least 1, got shape " + x.shape());
        return d;
    }

    private static int batch(Tensor x) {
        long b = 1;
        for (int i = 0; i < x.rank() - 2; i++) b *= x.dim(i);
        return Math.toIntExact(b);
    }
}
