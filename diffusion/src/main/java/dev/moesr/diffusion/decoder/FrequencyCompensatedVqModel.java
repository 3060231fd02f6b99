package dev.moesr.diffusion.decoder;

import dev.moesr.diffusion.autoencoder.Encoder;
import dev.moesr.diffusion.autoencoder.VectorQuantizer;
import dev.moesr.diffusion.autoencoder.VqConfig;
import dev.moesr.diffusion.autoencoder.VqModel;
import dev.moesr.nn.Module;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The first stage with the frequency-compensated decoder (VQModelResiUnet of the released code),
 * with the same state-dict names as {@link VqModel} plus decoder.fusion_layer_{i}.* and
 * decoder.unet_1.*.
 *
 * <p>Decoding a diffusion latent for an LR image: {@code decode(latent, lrFeatures(lrUpscaled))},
 * where {@code lrUpscaled} is the LR image in [-1, 1] resized with (Matlab-style) bicubic to the
 * output size; the released code uses imresize for this. Only the encoder layers up to the
 * deepest fusion level run for the features.
 */
public class FrequencyCompensatedVqModel extends Module {
    public final VqConfig config;
    private final Encoder encoder;
    private final FrequencyCompensatedDecoder decoder;
    private final VectorQuantizer quantize;
    private final Conv2d quantConv, postQuantConv;

    public FrequencyCompensatedVqModel(VqConfig config, FrequencyDecoderConfig fcConfig, Philox rng) {
        if (config.levels() < 3) {
            throw new IllegalArgumentException("the frequency-compensated decoder fuses LR features at the inner levels, so it needs at least 3 levels, got chMult "
                    + config.chMult());
        }
        this.config = config;
        this.encoder = registerModule("encoder", new Encoder(config, rng));
        this.decoder = registerModule("decoder", new FrequencyCompensatedDecoder(config, fcConfig, rng));
        this.quantize = registerModule("quantize", new VectorQuantizer(config.nEmbed(), config.embedDim(), config.beta(), rng));
        this.quantConv = registerModule("quant_conv", new Conv2d(config.zChannels(), config.embedDim(), 1, 1, 0, rng));
        this.postQuantConv = registerModule("post_quant_conv", new Conv2d(config.embedDim(), config.zChannels(), 1, 1, 0, rng));
    }

    public Encoder encoder() { return encoder; }

    public FrequencyCompensatedDecoder decoder() { return decoder; }

    public VectorQuantizer quantizer() { return quantize; }

    /** Image to the unquantised latent (encoder, quant_conv), as {@link VqModel#encode}. */
    public Tensor encode(Tensor image) { return quantConv.forward(encoder.forward(image)); }

    /** The encoder's features of the upscaled LR image at the fusion levels. */
    public List<Tensor> lrFeatures(Tensor lrUpscaled) { return encoder.levelFeatures(lrUpscaled, decoder.fusionLevels()); }

    /** Latent [N, embedDim, h, w] to an image: quantise, post_quant_conv, the decoder with LR fusion and refinement. */
    public Tensor decode(Tensor latent, List<Tensor> lrFeatures) {
        return decodeQuantized(quantize.forward(latent).quantized(), lrFeatures);
    }

    /** Latent to an image through the plain VQ-GAN decoder (no fusion, no refinement): a first stage whose compensation is not trained yet. */
    public Tensor decodePlain(Tensor latent) {
        return decoder.forwardPlain(postQuantConv.forward(quantize.forward(latent).quantized()));
    }

    public Tensor decodeQuantized(Tensor quantized, List<Tensor> lrFeatures) {
        return decoder.forward(postQuantConv.forward(quantized), lrFeatures);
    }

    /** The released forward: LR features of {@code lrUpscaled}, then decode the latent; with the quantiser loss and codes. */
    public VqModel.Reconstruction forward(Tensor lrUpscaled, Tensor latent) {
        VectorQuantizer.Result q = quantize.forward(latent);
        return new VqModel.Reconstruction(decodeQuantized(q.quantized(), lrFeatures(lrUpscaled)), q.loss(), q.indices());
    }

    /**
     * Loads a plain VQ-GAN checkpoint (VqModel names) into everything but the fusion layers and
     * the refinement UNet, which keep their values: how stage 2 starts from the trained first
     * stage. Keys are checked first: any other missing key, an unexpected key or a shape mismatch
     * is an error and nothing is written.
     */
    public void loadFirstStage(Path checkpoint) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(checkpoint)) {
            checkFirstStageKeys(f.entries().keySet(), checkpoint.toString());
            loadFrom(f, false);
        }
    }

    /** As {@link #loadFirstStage(Path)}, from tensors in memory. */
    public void loadFirstStage(Map<String, Tensor> state) {
        checkFirstStageKeys(state.keySet(), "the state dict");
        loadStateDict(state, false);
    }

    private void checkFirstStageKeys(Set<String> keys, String source) {
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>();
        Set<String> own = stateDict().keySet();
        for (String k : own) if (!keys.contains(k) && !isCompensation(k)) missing.add(k);
        for (String k : keys) if (!own.contains(k) || isCompensation(k)) unexpected.add(k);
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IllegalArgumentException("cannot load a first stage from " + source + " (nothing was changed): "
                    + (missing.isEmpty() ? "" : missing.size() + " missing keys, e.g. " + missing.subList(0, Math.min(5, missing.size())) + " ")
                    + (unexpected.isEmpty() ? "" : unexpected.size() + " unexpected keys, e.g. " + unexpected.subList(0, Math.min(5, unexpected.size())))
                    + "; expected a VqModel state dict of the same configuration (to load a full frequency-compensated checkpoint, use load)");
        }
    }

    private static boolean isCompensation(String key) {
        return key.startsWith("decoder.fusion_layer_") || key.startsWith("decoder.unet_1.");
    }

    public float fusionWeight() { return decoder.fusionWeight(); }

    public void setFusionWeight(float w) { decoder.setFusionWeight(w); }

    /**
     * Stage-2 training: freezes everything (encoder, quantiser, both 1x1 convs, the plain decoder)
     * except the fusion layers and the refinement UNet, as the released code does.
     */
    public void freezeForStage2() {
        setTrainable(false);
        for (Module m : decoder.compensationModules()) m.setTrainable(true);
    }
}
