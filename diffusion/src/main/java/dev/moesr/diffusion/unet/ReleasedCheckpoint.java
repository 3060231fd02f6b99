package dev.moesr.diffusion.unet;

import dev.moesr.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the UNet out of a state dict of the authors' released checkpoints (their LatentDiffusion
 * state dicts, one file per sampling expert: flat as {@code torch.save} wrote them,
 * or inside a Lightning checkpoint's {@code state_dict}; read by {@code dev.moesr.nn.io.TensorSource}):
 * the UNet under {@code model.diffusion_model.}, its EMA under {@code model_ema.diffusion_model}
 * followed by the name without dots (LitEma's naming). Names are translated with
 * {@link UNetLayout#releasedNames()}.
 */
public final class ReleasedCheckpoint {
    public static final String MODEL_PREFIX = "model.diffusion_model.";
    public static final String EMA_PREFIX = "model_ema.diffusion_model";

    private ReleasedCheckpoint() {}

    /** The key of the tensor the released code names {@code releasedName} (UNet-relative) in a checkpoint: EMA or raw. */
    public static String releasedKey(String releasedName, boolean ema) {
        return ema ? EMA_PREFIX + releasedName.replace(".", "") : MODEL_PREFIX + releasedName;
    }

    /**
     * For each state-dict name of a {@code config} UNet (ours, in order), the key of its tensor
     * among {@code checkpointKeys}: the EMA weights when {@code ema}, else the raw ones. Other keys
     * are ignored; missing UNet keys are an error naming them.
     */
    public static Map<String, String> unetKeys(Set<String> checkpointKeys, UNetConfig config, boolean ema) {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (var e : UNetLayout.of(config).releasedNames().entrySet()) {
            String key = releasedKey(e.getValue(), ema);
            if (!checkpointKeys.contains(key)) missing.add(key + " (our " + e.getKey() + ")");
            else out.put(e.getKey(), key);
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("the checkpoint lacks " + missing.size() + " " + (ema ? "EMA " : "") + "UNet entries of " + config
                    + ", e.g. " + missing.subList(0, Math.min(5, missing.size())) + (ema ? "; load the raw weights (ema = false) if it has no EMA" : ""));
        }
        return out;
    }

    /**
     * The state dict of a {@code config} UNet (our names) taken from {@code checkpoint}: the EMA
     * weights when {@code ema} (what the released sampler uses), else the raw ones. Other entries
     * (first stage, schedule buffers) are ignored; a missing UNet entry is an error naming it.
     * The tensors are those of {@code checkpoint}, not copies.
     */
    public static Map<String, Tensor> unetState(Map<String, Tensor> checkpoint, UNetConfig config, boolean ema) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : unetKeys(checkpoint.keySet(), config, ema).entrySet()) out.put(e.getKey(), checkpoint.get(e.getValue()));
        return out;
    }
}
