package dev.moesr.diffusion.train;

import dev.moesr.tensor.Tensor;

/** eps_theta(x, t) for a batch: x is z_t with the condition already concatenated on channels. */
@FunctionalInterface
public interface NoisePredictor {
    Tensor predict(Tensor x, int[] timesteps);
}
