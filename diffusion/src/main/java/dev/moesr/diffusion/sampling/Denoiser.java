package dev.moesr.diffusion.sampling;

import dev.moesr.tensor.Tensor;

/** A noise predictor eps(z_t, condition, t): one UNet, or the time-stage experts that pick one per t. */
@FunctionalInterface
public interface Denoiser {
    /** The predicted noise, shaped like {@code zt}; {@code condition} may be null for unconditional models. */
    Tensor predictNoise(Tensor zt, Tensor condition, int t);
}
