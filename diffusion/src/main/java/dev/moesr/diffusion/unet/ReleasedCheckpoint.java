package dev.moesr.diffusion.unet;

import dev.moesr.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the UNet out of a state dict of the authors' released checkpoints (their LatentDiffusion
 * Lightning state dicts, one file per sampling expert, stored as safetensors with the same keys):
 * the UNet under {@code model.diffusion_model.}, its EMA under {@code model_ema.diffusion_model}
 * followed by the name without dots (LitEma's naming). Names are translated with
 * {@link UNetLayout#releasedNames()}.
 */
public final class ReleasedCheckpoint {
    public static final String MODEL_PREFIX = "model.diffusion_model.";
    public static final String EMA_PREFIX = "model_ema.diffusion_model";

    private ReleasedCheckpoint() {}

    /**
     * The state dict of a {@code config} UNet (our names) taken from {@code checkpoint}: the EMA
     * weights when {@code ema} (what the released sampler uses), else the raw ones. Other entries
     * (first stage, schedule buffers) are ignored; a missing UNet entry is an error naming it.
     * The tensors are those of {@code checkpoint}, not copies.
     */
    public static Map<String, Tensor> unetState(Map<String, Tensor> checkpoint, UNetConfig config, boolean ema) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (var e : UNetLayout.of(config).releasedNames().entrySet()) {
            String key = ema ? EMA_PREFIX + e.getValue().replace(".", "") : MODEL_PREFIX + e.getValue();
            Tensor t = checkpoint.get(key);
            if (t == null) missing.add(key + " (our " + e.getKey() + ")");
            else out.put(e.getKey(), t);
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("the checkpoint lacks " + missing.size() + " " + (ema ? "EMA " : "") + "UNet entries of " + config
                    + ", e.g. " + missing.subList(0, Math.min(5, missing.size())) + (ema ? "; load the raw weights (ema = false) if it has no EMA" : ""));
        }
        return out;
    }
}
