package dev.moesr.app.train;

import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.train.TrainingCheckpoint;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Loads a first stage (VQ encoder, quantiser, decoder) from whatever this program wrote: a
 * model file ({@code first_stage.*}), a stage-0 checkpoint (VqModel names; the fusion layers
 * and refinement UNet keep their values) or a stage-2 checkpoint ({@code first_stage.*}).
 */
public final class FirstStageFiles {
    /** Prefix of the first stage in model files and stage-2 checkpoints. */
    public static final String PREFIX = "first_stage.";

    private FirstStageFiles() {}

    /**
     * Loads the first stage; returns whether its decoder compensation (fusion layers and
     * refinement UNet) came from the file too, i.e. has been trained: true for a model file or a
     * stage-2 checkpoint, false for a stage-0 checkpoint.
     */
    public static boolean load(Path path, FrequencyCompensatedVqModel into, MoesrConfig config) throws IOException {
        if (!Files.isRegularFile(path)) throw new IOException("--first-stage: no file at " + path);
        SafeTensors.Contents c = SafeTensors.read(path);
        try {
            Map<String, String> meta = c.metadata();
            if (meta.containsKey("moesr.name")) {
                MoesrConfig theirs = MoesrConfig.fromMetadata(meta);
                if (!theirs.vq().equals(config.vq())) {
                    throw new IOException(path + " holds a first stage of configuration " + theirs.name() + ", this run uses " + config.name());
                }
            }
            String stage = meta.get("stage");
            Map<String, Tensor> state = new HashMap<>();
            if (MoesrModel.KIND.equals(meta.get(MoesrModel.KIND_KEY)) || "2".equals(stage)) {
                c.tensors().forEach((k, v) -> { if (k.startsWith(PREFIX)) state.put(k.substring(PREFIX.length()), v); });
                into.loadStateDict(state, true);
                return true;
            } else if ("0".equals(stage)) {
                c.tensors().forEach((k, v) -> {
                    if (!k.startsWith(TrainingCheckpoint.EMA_PREFIX) && !k.startsWith(TrainingCheckpoint.OPTIMIZER_PREFIX)) state.put(k, v);
                });
                into.loadFirstStage(state);
                return false;
            } else {
                throw new IOException(path + " is neither a model file nor a stage-0 or stage-2 checkpoint (its metadata has stage = " + stage + ")");
            }
        } catch (IllegalArgumentException e) {
            throw new IOException("--first-stage " + path + " does not fit: " + e.getMessage(), e);
        } finally {
            for (Tensor t : c.tensors().values()) t.release();
        }
    }
}
