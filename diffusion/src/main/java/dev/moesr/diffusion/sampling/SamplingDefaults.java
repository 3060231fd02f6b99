package dev.moesr.diffusion.sampling;

import dev.moesr.diffusion.MoesrConfig;

/**
 * How a model is meant to be sampled when the caller does not say: sampler steps, eta (1 for
 * ancestral DDPM, 0 for deterministic DDIM), the latent tile and its overlap, and whether the
 * colour fix is applied. The paper's models sample with 200 ancestral steps; the shipped small
 * model was measured best at fewer deterministic steps (docs/default-model.md).
 */
public record SamplingDefaults(int steps, double eta, int tile, int overlap, boolean colorFix) {

    /** The paper's: 200 respaced ancestral steps, 128-latent tiles overlapping by 32, no colour fix. */
    public static final SamplingDefaults PAPER = new SamplingDefaults(200, 1.0, 128, 32, false);

    /** The shipped {@code moesr-x4-small}: chosen by measurement, see docs/default-model.md. */
    public static final SamplingDefaults SMALL = new SamplingDefaults(10, 0.0, 128, 16, true);

    /** The defaults of a configuration: its preset's when it is the shipped small one, the paper's otherwise. */
    public static SamplingDefaults of(MoesrConfig c) {
        return c.name().equals("moesr-x4-small") ? SMALL : PAPER;
    }
}
