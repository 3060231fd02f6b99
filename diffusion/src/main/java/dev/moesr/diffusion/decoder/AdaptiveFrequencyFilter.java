package dev.moesr.diffusion.decoder;

import dev.moesr.nn.Init;
import dev.moesr.nn.Layer;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * The adaptive frequency filter of AFFNet (Huang et al. 2023; AFNO2D_channelfirst in the released
 * code), in float32:
 * <pre>
 *   X = rfft2(x, orthonormal)                                   [N, C, H, W/2+1], complex
 *   channels split into k blocks of C/k; per frequency, a complex two-layer block-diagonal MLP
 *   M = softshrink(W2 * leaky_relu(W1 * X + b1, 0.1) + b2, lambda)   (real and imaginary parts each)
 *   y = irfft2(X * M) + x
 * </pre>
 * A complex layer multiplies as complex numbers: with W = W_re + i W_im and X = X_re + i X_im,
 * out_re = W_re X_re - W_im X_im + b_re and out_im = W_re X_im + W_im X_re + b_im; the LeakyReLU
 * acts on real and imaginary parts separately.
 *
 * <p>State (the released names and layouts): w1 [2, k, C/k, C/k * f], b1 [2, k, C/k * f],
 * w2 [2, k, C/k * f, C/k], b2 [2, k, C/k], index 0 of the first dimension the real part; f is
 * the hidden-size factor. All are initialised 0.02 * N(0, 1).
 */
public class AdaptiveFrequencyFilter extends Layer {
    public static final float SLOPE = 0.1f;
    public static final double INIT_SCALE = 0.02;

    public final int channels, blocks, hiddenFactor;
    public final float lambda;
    private final Parameter w1, b1, w2, b2;

    public AdaptiveFrequencyFilter(int channels, int blocks, int hiddenFactor, float lambda, Philox rng) {
        if (channels <= 0 || blocks <= 0 || hiddenFactor <= 0 || channels % blocks != 0) {
            throw new IllegalArgumentException("the frequency filter needs channels divisible into blocks and a positive hidden factor, got "
                    + channels + " channels, " + blocks + " blocks, factor " + hiddenFactor);
        }
        if (!(lambda >= 0)) throw new IllegalArgumentException("the soft-shrink lambda must be >= 0, got " + lambda);
        this.channels = channels;
        this.blocks = blocks;
        this.hiddenFactor = hiddenFactor;
        this.lambda = lambda;
        int size = channels / blocks, hidden = size * hiddenFactor;
        this.w1 = registerParameter("w1", Init.normal(rng, Device.CPU, INIT_SCALE, 2, blocks, size, hidden));
        this.b1 = registerParameter("b1", Init.normal(rng, Device.CPU, INIT_SCALE, 2, blocks, hidden));
        this.w2 = registerParameter("w2", Init.normal(rng, Device.CPU, INIT_SCALE, 2, blocks, hidden, size));
        this.b2 = registerParameter("b2", Init.normal(rng, Device.CPU, INIT_SCALE, 2, blocks, size));
    }

    public static long parameterCount(int channels, int blocks, int hiddenFactor) {
        long size = channels / blocks, hidden = size * hiddenFactor;
        return 2L * blocks * (size * hidden + hidden + hidden * size + size);
    }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != channels) {
            throw new IllegalArgumentException("the frequency filter needs NCHW input with " + channels + " channels, got shape " + x.shape());
        }
        return apply(x, w1.tensor(), b1.tensor(), w2.tensor(), b2.tensor(), blocks, lambda);
    }

    /** The filter as a function of its input and weights (shapes as the parameters of this class). */
    public static Tensor apply(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, int blocks, float lambda) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor spectrum = x.rfft2();                                  // [N, C, H, Wf]
        int wf = spectrum.dim(3);
        int[] blockShape = {n, blocks, c / blocks, h * wf};           // one column per frequency
        Tensor re = spectrum.real().reshape(blockShape);
        Tensor im = spectrum.imag().reshape(blockShape);
        Tensor[] hidden = complexLayer(re, im, w1, b1);
        Tensor[] out = complexLayer(hidden[0].leakyRelu(SLOPE), hidden[1].leakyRelu(SLOPE), w2, b2);
        Tensor mask = Tensor.complex(out[0].softshrink(lambda), out[1].softshrink(lambda)).reshape(n, c, h, wf);
        return spectrum.mul(mask).irfft2(w).add(x);
    }

    /** One complex block-diagonal layer: per block k, out = W_k^T in + b_k with complex W, in and b. */
    private static Tensor[] complexLayer(Tensor re, Tensor im, Tensor weight, Tensor bias) {
        int k = weight.dim(1), in = weight.dim(2), out = weight.dim(3);
        Tensor wRe = weight.slice(0, 0, 1).reshape(k, in, out).transpose(1, 2);   // [k, out, in]
        Tensor wIm = weight.slice(0, 1, 2).reshape(k, in, out).transpose(1, 2);
        Tensor bRe = bias.slice(0, 0, 1).reshape(k, out, 1);
        Tensor bIm = bias.slice(0, 1, 2).reshape(k, out, 1);
        Tensor outRe = wRe.matmul(re).sub(wIm.matmul(im)).add(bRe);               // [N, k, out, HWf]
        Tensor outIm = wRe.matmul(im).add(wIm.matmul(re)).add(bIm);
        return new Tensor[] {outRe, outIm};
    }

    @Override public String toString() { return "AdaptiveFrequencyFilter(" + channels + ", blocks " + blocks + ", factor " + hiddenFactor + ")"; }
}
