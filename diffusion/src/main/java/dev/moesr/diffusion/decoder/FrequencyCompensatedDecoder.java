package dev.moesr.diffusion.decoder;

import dev.moesr.diffusion.autoencoder.Decoder;
import dev.moesr.diffusion.autoencoder.VqConfig;
import dev.moesr.nn.Module;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The paper's frequency-compensated decoder (Decoder_Mix_Unet of the released code): the VQ-GAN
 * decoder plus
 * <ul>
 *   <li>CFW fusion {@code fusion_layer_{i}} after the residual blocks of every level i other
 *       than the first and the last (level 1 of VQ-f4: 256 channels at H/2), before its
 *       upsampling, fed with the frozen encoder's features of the same level computed from the LR
 *       image upscaled to the output size;</li>
 *   <li>the AFF refinement UNet {@code unet_1} on the full-resolution activations of the last
 *       up level, before norm_out, swish and conv_out.</li>
 * </ul>
 * The other state keeps the plain decoder's names, so a VQ-f4 checkpoint loads into it (the new
 * parts then keep their initial values).
 */
public class FrequencyCompensatedDecoder extends Decoder {
    public final FrequencyDecoderConfig fcConfig;
    private final int[] fusionLevels;
    private final List<CfwFusion> fusions = new ArrayList<>();
    private final AffUNet unet;
    private volatile float fusionWeight;

    public FrequencyCompensatedDecoder(VqConfig config, FrequencyDecoderConfig fcConfig, Philox rng) {
        super(config, rng);
        this.fcConfig = fcConfig;
        this.fusionLevels = fusionLevels(config);
        for (int level : fusionLevels) {
            fusions.add(registerModule("fusion_layer_" + level, new CfwFusion(config.width(level), fcConfig.rrdbBlocks(), fcConfig.rrdbGrowth(),
                    config.normGroups(), config.normEps(), rng)));
        }
        this.unet = registerModule("unet_1", new AffUNet(config.width(0), fcConfig, rng));
        this.fusionWeight = fcConfig.fusionWeight();
    }

    /** The levels that fuse LR features: 1 .. levels-2 (only level 1 for a three-level model). */
    public static int[] fusionLevels(VqConfig config) {
        int n = Math.max(0, config.levels() - 2);
        int[] levels = new int[n];
        for (int i = 0; i < n; i++) levels[i] = i + 1;
        return levels;
    }

    public int[] fusionLevels() { return fusionLevels.clone(); }

    /** Parameters of the decoder, the fusion layers and the refinement UNet (no post_quant_conv, no codebook). */
    public static long parameterCount(VqConfig config, FrequencyDecoderConfig fc) {
        long n = config.decoderParameterCount() + AffUNet.parameterCount(config.width(0), fc);
        for (int level : fusionLevels(config)) n += CfwFusion.parameterCount(config.width(level), fc.rrdbBlocks(), fc.rrdbGrowth());
        return n;
    }

    public float fusionWeight() { return fusionWeight; }

    /** Sets w of F_m = F_d + w * C(F_lr, F_d): 0 ignores the LR image, larger values follow it more closely. */
    public void setFusionWeight(float w) {
        if (!Float.isFinite(w)) throw new IllegalArgumentException("the fusion weight must be finite, got " + w);
        fusionWeight = w;
    }

    /** The fusion layers and the refinement UNet: what stage 2 trains. */
    public List<Module> compensationModules() {
        List<Module> out = new ArrayList<>(fusions);
        out.add(unet);
        return out;
    }

    public AffUNet refinement() { return unet; }

    /** This decoder needs LR features; use {@link #forward(Tensor, List)}. */
    @Override public Tensor forward(Tensor z) {
        if (fusionLevels.length == 0) return forward(z, List.of());
        throw new IllegalArgumentException("the frequency-compensated decoder fuses LR features at levels " + java.util.Arrays.toString(fusionLevels)
                + ": call forward(z, lrFeatures) with the encoder's features of the upscaled LR image");
    }

    /** Latent (after post_quant_conv) and LR features, one per fusion level, to an image. */
    public Tensor forward(Tensor z, List<Tensor> lrFeatures) {
        if (lrFeatures.size() != fusionLevels.length) {
            throw new IllegalArgumentException("expected " + fusionLevels.length + " LR feature maps (levels " + java.util.Arrays.toString(fusionLevels)
                    + "), got " + lrFeatures.size());
        }
        return decode(z, lrFeatures);
    }

    /** Set while {@link #forwardPlain} runs: the hooks then leave the activations alone. */
    private boolean plain;

    /**
     * The plain VQ-GAN decoder inside this one: no LR fusion, no refinement. What a first stage
     * decodes to before stage 2 has trained its compensation (whose random layers would only add noise).
     */
    public synchronized Tensor forwardPlain(Tensor z) {
        plain = true;
        try {
            return decode(z, List.of());
        } finally {
            plain = false;
        }
    }

    @Override protected Tensor afterLevel(int level, Tensor h, List<Tensor> lrFeatures) {
        if (plain) return h;
        for (int i = 0; i < fusionLevels.length; i++) {
            if (fusionLevels[i] == level) return fusions.get(i).forward(lrFeatures.get(i), h, fusionWeight);
        }
        return h;
    }

    @Override protected Tensor beforeOutput(Tensor h) { return plain ? h : unet.forward(h); }
}
