package dev.moesr.diffusion.sampling;

import dev.moesr.tensor.Tensor;

/**
 * The DDPM forward process q(z_t | z_0) = N(sqrt(abar_t) z_0, (1 - abar_t) I) for t in [0, T),
 * with its coefficients held in double precision. The method uses LDM's "linear" schedule:
 * betas = linspace(sqrt(0.0015), sqrt(0.0155), 1000)^2.
 */
public final class NoiseSchedule {
    private final double[] betas;
    private final double[] alphasCumprod;

    private NoiseSchedule(double[] betas) {
        for (double b : betas) {
            if (!(b > 0 && b < 1)) throw new IllegalArgumentException("every beta must lie in (0, 1), got " + b);
        }
        this.betas = betas.clone();
        this.alphasCumprod = new double[betas.length];
        double acc = 1;
        for (int t = 0; t < betas.length; t++) {
            acc *= 1 - betas[t];
            alphasCumprod[t] = acc;
        }
    }

    /** LDM's "linear" schedule: betas = linspace(sqrt(start), sqrt(end), steps)^2. */
    public static NoiseSchedule linear(int steps, double start, double end) {
        if (steps < 2) throw new IllegalArgumentException("a schedule needs at least 2 steps, got " + steps);
        double a = Math.sqrt(start), b = Math.sqrt(end);
        double[] betas = new double[steps];
        for (int i = 0; i < steps; i++) {
            double s = a + (b - a) * i / (steps - 1);
            betas[i] = s * s;
        }
        return new NoiseSchedule(betas);
    }

    /** The schedule of the paper: T = 1000, linear from 0.0015 to 0.0155. */
    public static NoiseSchedule ldmLinear() { return linear(1000, 0.0015, 0.0155); }

    public int steps() { return betas.length; }

    public double beta(int t) { return betas[check(t)]; }

    /** abar_t = prod_{s <= t} (1 - beta_s). */
    public double alphaCumprod(int t) { return alphasCumprod[check(t)]; }

    private int check(int t) {
        if (t < 0 || t >= betas.length) throw new IllegalArgumentException("timestep " + t + " outside [0, " + betas.length + ")");
        return t;
    }

    /**
     * z_t = sqrt(abar_t) z_0 + sqrt(1 - abar_t) noise, with one timestep per batch element
     * (dimension 0 of z0). Differentiable in z0 and noise.
     */
    public Tensor addNoise(Tensor z0, Tensor noise, int[] timesteps) {
        if (!z0.shape().equals(noise.shape())) {
            throw new IllegalArgumentException("noise of shape " + noise.shape() + " for latents of shape " + z0.shape());
        }
        int b = z0.dim(0);
        if (timesteps.length != b) throw new IllegalArgumentException(timesteps.length + " timesteps for a batch of " + b);
        float[] signal = new float[b], sigma = new float[b];
        for (int i = 0; i < b; i++) {
            signal[i] = (float) Math.sqrt(alphaCumprod(timesteps[i]));
            sigma[i] = (float) Math.sqrt(1 - alphaCumprod(timesteps[i]));
        }
        int[] coefShape = new int[z0.rank()];
        java.util.Arrays.fill(coefShape, 1);
        coefShape[0] = b;
        Tensor a = Tensor.of(z0.device(), signal, coefShape);
        Tensor s = Tensor.of(z0.device(), sigma, coefShape);
        return z0.mul(a).add(noise.mul(s));
    }
}
