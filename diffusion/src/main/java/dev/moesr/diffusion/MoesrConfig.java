package dev.moesr.diffusion;

import dev.moesr.diffusion.autoencoder.VqConfig;
import dev.moesr.diffusion.decoder.FrequencyCompensatedDecoder;
import dev.moesr.diffusion.decoder.FrequencyDecoderConfig;
import dev.moesr.diffusion.unet.UNetConfig;
import dev.moesr.diffusion.unet.UNetLayout;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One whole model of the method: the time-stage experts (each a UNet), the VQ first stage and
 * the frequency-compensated decoder, for one upscaling factor. Travels in the safetensors
 * metadata of every checkpoint ({@code moesr.*}, {@code unet.*}, {@code vq.*}, {@code decoder.*}).
 *
 * @param scale         upscaling factor (8: 64x64 LR to 512x512; 4: 128x128 LR to 512x512)
 * @param experts       Sampling experts (time stages) of the mixture (4)
 * @param trainSteps    diffusion timesteps T (1000)
 */
public record MoesrConfig(String name, int scale, int experts, int trainSteps, UNetConfig unet, VqConfig vq, FrequencyDecoderConfig decoder) {

    public MoesrConfig {
        if (scale < 1) throw new IllegalArgumentException("scale must be >= 1, got " + scale);
        if (experts < 1 || trainSteps % experts != 0) {
            throw new IllegalArgumentException(experts + " Sampling experts must split " + trainSteps + " timesteps evenly");
        }
        if (unet.inChannels() != vq.embedDim() + 3 || unet.outChannels() != vq.embedDim()) {
            throw new IllegalArgumentException("the UNet maps " + unet.inChannels() + " channels to " + unet.outChannels()
                    + ", but latents have " + vq.embedDim() + " channels and the LR condition 3: it must map " + (vq.embedDim() + 3) + " to " + vq.embedDim());
        }
    }

    /** The released 8x model: 16 space experts per MoE layer, nine AFF blocks. */
    public static MoesrConfig moesrX8() {
        return new MoesrConfig("moesr-x8", 8, 4, 1000, UNetConfig.moesrX8(), VqConfig.f4(), FrequencyDecoderConfig.released());
    }

    /** The paper's 4x blind model: channel multipliers [1,2,4,4], 4 space experts, six AFF blocks. */
    public static MoesrConfig moesrX4() {
        return new MoesrConfig("moesr-x4", 4, 4, 1000, UNetConfig.moesrX4(), VqConfig.f4(), FrequencyDecoderConfig.paper());
    }

    /** A few channels everywhere: trains and samples in seconds on a CPU (4x, tests and demos). */
    public static MoesrConfig tiny() {
        VqConfig vq = new VqConfig(3, 3, 32, List.of(1, 2, 2), 1, 3, 3, 256, 8, 1e-6f, 0.25f);
        FrequencyDecoderConfig dec = new FrequencyDecoderConfig(1, 16, 1.0f, 1, 8, 0.1f, 8, 1, 0.01f);
        return new MoesrConfig("tiny", 4, 4, 1000, UNetConfig.tiny(), vq, dec);
    }

    /**
     * The shipped default: the whole method, sized to train on two CPU cores in hours and to
     * super-resolve 256x256 to 1024x1024 on them in under a minute (docs/default-model.md).
     */
    public static MoesrConfig moesrX4Small() {
        VqConfig vq = new VqConfig(3, 3, 16, List.of(1, 2, 2), 1, 3, 3, 8192, 8, 1e-6f, 0.25f);
        FrequencyDecoderConfig dec = new FrequencyDecoderConfig(1, 8, 1.0f, 1, 8, 0.1f, 8, 1, 0.01f);
        return new MoesrConfig("moesr-x4-small", 4, 4, 1000, UNetConfig.moesrX4Small(), vq, dec);
    }

    public static List<String> presetNames() { return List.of("moesr-x8", "moesr-x4", "moesr-x4-small", "tiny"); }

    public static MoesrConfig byName(String name) {
        return switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "moesr-x8" -> moesrX8();
            case "moesr-x4" -> moesrX4();
            case "moesr-x4-small" -> moesrX4Small();
            case "tiny" -> tiny();
            default -> throw new IllegalArgumentException("unknown model configuration '" + name + "'; known: " + presetNames());
        };
    }

    /** Latent pixels per image pixel along a side: the VQ's downsampling factor (4). */
    public int latentFactor() { return vq.downsamplingFactor(); }

    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("moesr.name", name);
        m.put("moesr.scale", Integer.toString(scale));
        m.put("moesr.experts", Integer.toString(experts));
        m.put("moesr.train_steps", Integer.toString(trainSteps));
        m.putAll(unet.toMetadata());
        m.putAll(RecordMetadata.write("vq", vq));
        m.putAll(RecordMetadata.write("decoder", decoder));
        return m;
    }

    public static MoesrConfig fromMetadata(Map<String, String> m) {
        for (String k : List.of("moesr.name", "moesr.scale", "moesr.experts", "moesr.train_steps")) {
            if (!m.containsKey(k)) throw new IllegalArgumentException("not a moesr model file: its metadata has no '" + k + "'");
        }
        try {
            return new MoesrConfig(m.get("moesr.name"), Integer.parseInt(m.get("moesr.scale")), Integer.parseInt(m.get("moesr.experts")),
                    Integer.parseInt(m.get("moesr.train_steps")), UNetConfig.fromMetadata(m), RecordMetadata.read("vq", VqConfig.class, m),
                    RecordMetadata.read("decoder", FrequencyDecoderConfig.class, m));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a moesr.* metadata entry is not a number: " + e.getMessage(), e);
        }
    }

    /** Parameter counts of each component, computed from the shapes alone (nothing is allocated). */
    public Map<String, Long> parameterCounts() {
        Map<String, Long> c = new LinkedHashMap<>();
        long unetAll = UNetLayout.of(unet).parameterCount();
        long unetPlain = UNetLayout.of(unet.withSpaceExperts(0)).parameterCount();
        c.put("unet (one Sampling expert)", unetAll);
        c.put("unet without the Space-MoE layers", unetPlain);
        c.put("space-moe layers (one expert UNet)", unetAll - unetPlain);
        c.put("sampling experts (" + experts + " UNets)", unetAll * experts);
        c.put("vq encoder", vq.encoderParameterCount());
        c.put("vq decoder", vq.decoderParameterCount());
        long quant = 2L * (vq.zChannels() * vq.embedDim() + vq.embedDim()) + (long) vq.nEmbed() * vq.embedDim();
        c.put("quant_conv + post_quant_conv + codebook", quant);
        long fc = FrequencyCompensatedDecoder.parameterCount(vq, decoder);
        c.put("frequency-compensated decoder (decoder + CFW + AFF)", fc);
        c.put("cfw fusion + aff refinement", fc - vq.decoderParameterCount());
        c.put("total for inference (experts + encoder + quantisation + frequency-compensated decoder)", unetAll * experts + vq.encoderParameterCount() + quant + fc);
        return c;
    }
}
