package dev.moesr.diffusion.decoder;

/**
 * What the frequency-compensated decoder adds to a VQ-GAN decoder: CFW fusion of LR features
 * and the AFF refinement UNet.
 *
 * @param rrdbBlocks         RRDB blocks in each CFW fusion (2 in the released code)
 * @param rrdbGrowth         growth channels of the dense blocks (32)
 * @param fusionWeight       w in F_m = F_d + w * C(F_lr, F_d) at the start (1.0; changeable at inference)
 * @param affContextBlocks   AFF blocks at the coarsest scale of the refinement UNet (4 released: nine AFF
 *                           blocks in all; 1 gives the paper's six)
 * @param affGroups          GroupNorm groups of the AFF blocks (32)
 * @param affDropPath        stochastic-depth probability of the AFF blocks in training (0.1 released)
 * @param filterBlocks       blocks of the block-diagonal frequency MLP (8)
 * @param filterHiddenFactor hidden width of the frequency MLP per block, relative to the block size (1 released)
 * @param filterLambda       soft-shrink threshold of the frequency mask (0.01)
 */
public record FrequencyDecoderConfig(int rrdbBlocks, int rrdbGrowth, float fusionWeight, int affContextBlocks, int affGroups,
                                     float affDropPath, int filterBlocks, int filterHiddenFactor, float filterLambda) {

    public FrequencyDecoderConfig {
        if (rrdbBlocks < 0 || rrdbGrowth <= 0 || affContextBlocks < 0 || affGroups <= 0 || filterBlocks <= 0 || filterHiddenFactor <= 0) {
            throw new IllegalArgumentException("FrequencyDecoderConfig needs rrdbBlocks >= 0, affContextBlocks >= 0 and positive rrdbGrowth, affGroups, "
                    + "filterBlocks, filterHiddenFactor; got " + rrdbBlocks + ", " + affContextBlocks + ", " + rrdbGrowth + ", " + affGroups + ", "
                    + filterBlocks + ", " + filterHiddenFactor);
        }
        if (!Float.isFinite(fusionWeight)) throw new IllegalArgumentException("fusionWeight must be finite, got " + fusionWeight);
        if (!(affDropPath >= 0 && affDropPath < 1)) throw new IllegalArgumentException("affDropPath must be in [0, 1), got " + affDropPath);
        if (!(filterLambda >= 0)) throw new IllegalArgumentException("filterLambda must be >= 0, got " + filterLambda);
    }

    /** The released 8x decoder: two RRDBs, nine AFF blocks. */
    public static FrequencyDecoderConfig released() {
        return new FrequencyDecoderConfig(2, 32, 1.0f, 4, 32, 0.1f, 8, 1, 0.01f);
    }

    /** As released, but with the paper's six AFF blocks (one context block). */
    public static FrequencyDecoderConfig paper() {
        return released().withAffContextBlocks(1);
    }

    public FrequencyDecoderConfig withAffContextBlocks(int n) {
        return new FrequencyDecoderConfig(rrdbBlocks, rrdbGrowth, fusionWeight, n, affGroups, affDropPath, filterBlocks, filterHiddenFactor, filterLambda);
    }

    public FrequencyDecoderConfig withFusionWeight(float w) {
        return new FrequencyDecoderConfig(rrdbBlocks, rrdbGrowth, w, affContextBlocks, affGroups, affDropPath, filterBlocks, filterHiddenFactor, filterLambda);
    }

    /** The number of AFF blocks of the refinement UNet. */
    public int affBlocks() { return 5 + affContextBlocks; }
}
