package dev.moesr.diffusion;

import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.sampling.TimeStageExperts;
import dev.moesr.nn.Module;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.tensor.Philox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything inference needs in one module and one file: the time-stage experts under
 * {@code sampling.experts.<k>.} and the VQ first stage with the frequency-compensated decoder
 * under {@code first_stage.}, the {@link MoesrConfig} in the metadata.
 */
public final class MoesrModel extends Module {
    public static final String KIND_KEY = "moesr.kind";
    public static final String KIND = "model";

    private final MoesrConfig config;
    private final TimeStageExperts sampling;
    private final FrequencyCompensatedVqModel firstStage;

    public MoesrModel(MoesrConfig config, Philox rng) {
        this.config = config;
        this.sampling = registerModule("sampling", TimeStageExperts.create(config.unet(), config.experts(), config.trainSteps(), rng));
        this.firstStage = registerModule("first_stage", new FrequencyCompensatedVqModel(config.vq(), config.decoder(), rng));
    }

    public MoesrConfig config() { return config; }

    public TimeStageExperts sampling() { return sampling; }

    public FrequencyCompensatedVqModel firstStage() { return firstStage; }

    /** Writes the model (atomically) with its configuration. */
    public void save(Path path) throws IOException {
        save(path, false);
    }

    /** Writes the model (atomically) with its configuration, its weights as F16 when {@code half}. */
    public void save(Path path, boolean half) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(config.toMetadata());
        meta.put(KIND_KEY, KIND);
        save(path, meta, half);
    }

    /** Reads a model file: the configuration from its metadata, then every weight (strictly: names and shapes must all match). */
    public static MoesrModel open(Path path) throws IOException {
        if (!Files.isRegularFile(path)) throw new IOException("no model file at " + path);
        MoesrConfig config;
        SafeTensorsFile file;
        try {
            file = SafeTensorsFile.open(path);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);   // a malformed or truncated file: one kind of error for callers
        }
        try (SafeTensorsFile f = file) {
            if (!KIND.equals(f.metadata().get(KIND_KEY))) {
                throw new IOException(path + " is not a moesr model file (its metadata has no " + KIND_KEY + " = " + KIND
                        + "; training checkpoints are turned into model files by 'train --stage export')");
            }
            try {
                config = MoesrConfig.fromMetadata(f.metadata());
            } catch (IllegalArgumentException e) {
                throw new IOException(path + ": " + e.getMessage(), e);
            }
            MoesrModel model = new MoesrModel(config, new Philox(0));
            try {
                model.loadFrom(f, true);
            } catch (IllegalArgumentException e) {
                model.release();
                throw new IOException(path + " does not match its own configuration " + config.name() + ": " + e.getMessage(), e);
            }
            return model;
        }
    }
}
