package dev.moesr.diffusion.train;

import dev.moesr.nn.Module;
import dev.moesr.nn.io.NonFinite;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.nn.optim.Ema;
import dev.moesr.nn.optim.Optimizer;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a training run needs to continue exactly where it stopped, in one safetensors
 * file: the model's state dict (its own names), the EMA under {@code model_ema.} (LDM's
 * layout), the optimiser state under {@code optimizer.}, and in the metadata the step and
 * whatever the trainer adds (seed, configuration). Written atomically by SafeTensors.
 */
public final class TrainingCheckpoint {
    public static final String EMA_PREFIX = "model_ema.";
    public static final String OPTIMIZER_PREFIX = "optimizer.";
    public static final String STEP_KEY = "step";

    private TrainingCheckpoint() {}

    public static void save(Path path, Module model, Ema ema, Optimizer optimizer, long step, Map<String, String> metadata) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>(model.stateDict());
        if (ema != null) ema.stateDict().forEach((k, v) -> all.put(EMA_PREFIX + k, v));
        optimizer.stateDict().forEach((k, v) -> all.put(OPTIMIZER_PREFIX + k, v));
        NonFinite.require(all, "refusing to write the checkpoint " + path);   // never a NaN checkpoint over a good one
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put(STEP_KEY, Long.toString(step));
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        SafeTensors.write(path, all, meta);
    }

    /**
     * Loads into the given objects and returns the metadata. Nothing changes unless the file is
     * a training checkpoint whose metadata has every entry of {@code expected} and fits the model.
     */
    public static Map<String, String> load(Path path, Module model, Ema ema, Optimizer optimizer, Map<String, String> expected) throws IOException {
        if (!Files.isRegularFile(path)) throw new IOException("no checkpoint at " + path);
        SafeTensors.Contents c = SafeTensors.read(path);
        for (var e : expected.entrySet()) {
            String found = c.metadata().get(e.getKey());
            if (!e.getValue().equals(found)) {
                for (Tensor t : c.tensors().values()) t.release();
                throw new IOException("checkpoint " + path + " has " + e.getKey() + " = " + found + ", this run needs " + e.getValue());
            }
        }
        Map<String, Tensor> modelState = new HashMap<>(), emaState = new HashMap<>(), optimState = new HashMap<>();
        for (var e : c.tensors().entrySet()) {
            String k = e.getKey();
            if (k.startsWith(EMA_PREFIX)) emaState.put(k.substring(EMA_PREFIX.length()), e.getValue());
            else if (k.startsWith(OPTIMIZER_PREFIX)) optimState.put(k.substring(OPTIMIZER_PREFIX.length()), e.getValue());
            else modelState.put(k, e.getValue());
        }
        if (!c.metadata().containsKey(STEP_KEY)) throw new IOException(path + " is not a training checkpoint (no '" + STEP_KEY + "' in its metadata)");
        try {
            model.loadStateDict(modelState, true);
            if (ema != null) ema.loadStateDict(emaState, true);
            optimizer.loadStateDict(optimState);
        } catch (IllegalArgumentException e) {
            throw new IOException("checkpoint " + path + " does not fit this model: " + e.getMessage(), e);
        } finally {
            for (Tensor t : c.tensors().values()) t.release();
        }
        return c.metadata();
    }

    public static long step(Map<String, String> metadata) {
        return Long.parseLong(metadata.get(STEP_KEY));
    }
}
