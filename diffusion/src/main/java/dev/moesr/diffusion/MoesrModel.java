package dev.moesr.diffusion;

import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.sampling.TimeStageExperts;
import dev.moesr.diffusion.unet.SpaceMoE;
import dev.moesr.diffusion.unet.UNet;
import dev.moesr.diffusion.unet.UNetLayout;
import dev.moesr.nn.InPlace;
import dev.moesr.nn.Init;
import dev.moesr.nn.Module;
import dev.moesr.nn.io.NonFinite;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.nn.io.SafeTensorsWriter;
import dev.moesr.nn.io.TensorSource;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything inference needs in one module and one file: the time-stage experts under
 * {@code sampling.experts.<k>.} and the VQ first stage with the frequency-compensated decoder
 * under {@code first_stage.}, the {@link MoesrConfig} in the metadata.
 *
 * <p>Two forms of the file. The full form holds every Space-MoE expert (what training, export and
 * import write). The averaged form ({@code moesr.space_moe = averaged} in the metadata) holds,
 * for each Space-MoE layer, one FFN {@code <block>.moe.ffn.*} whose weights are the mean of the
 * experts' ({@link SpaceMoE}): exactly what averaged inference computes, in about a third of the
 * space for {@code moesr-x8}; it serves inference only. {@link #open} reads the full form (and
 * refuses the averaged one); {@link #openForInference} builds the averaged model from either,
 * averaging a full file's experts as it reads them.
 */
public final class MoesrModel extends Module {
    public static final String KIND_KEY = "moesr.kind";
    public static final String KIND = "model";
    /** Metadata key that marks the averaged form of a model file; its value is {@link #AVERAGED}. */
    public static final String SPACE_MOE_KEY = "moesr.space_moe";
    public static final String AVERAGED = "averaged";
    /** A sentence in the averaged form's metadata saying what it is. */
    public static final String AVERAGED_NOTE_KEY = "moesr.space_moe.note";
    static final String AVERAGED_NOTE = "each Space-MoE layer's experts averaged into one FFN (<block>.moe.ffn.*), as averaged inference computes them;"
            + " for inference only: it cannot be trained, exported from or routed";

    private final MoesrConfig config;
    private final boolean averaged;
    private final TimeStageExperts sampling;
    private final FrequencyCompensatedVqModel firstStage;

    /** A freshly initialised model (the full form) drawn from {@code rng}. */
    public MoesrModel(MoesrConfig config, Philox rng) { this(config, rng, false); }

    /** As {@link #MoesrModel(MoesrConfig, Philox)}; with {@code averaged}, the averaged (inference-only) form. */
    public MoesrModel(MoesrConfig config, Philox rng, boolean averaged) {
        this.config = config;
        this.averaged = averaged;
        List<UNet> unets = new ArrayList<>();
        for (int k = 0; k < config.experts(); k++) unets.add(new UNet(config.unet(), rng, averaged));
        this.sampling = registerModule("sampling", new TimeStageExperts(unets, config.trainSteps()));
        this.firstStage = registerModule("first_stage", new FrequencyCompensatedVqModel(config.vq(), config.decoder(), rng));
    }

    public MoesrConfig config() { return config; }

    /** Whether this is the averaged (inference-only) form: one FFN per Space-MoE layer. */
    public boolean averaged() { return averaged; }

    public TimeStageExperts sampling() { return sampling; }

    public FrequencyCompensatedVqModel firstStage() { return firstStage; }

    /** The metadata of a model file of {@code config}, in the full or the averaged form. */
    public static Map<String, String> fileMetadata(MoesrConfig config, boolean averaged) {
        Map<String, String> meta = new LinkedHashMap<>(config.toMetadata());
        meta.put(KIND_KEY, KIND);
        if (averaged) {
            meta.put(SPACE_MOE_KEY, AVERAGED);
            meta.put(AVERAGED_NOTE_KEY, AVERAGED_NOTE);
        }
        return meta;
    }

    /** Whether a model file's metadata marks the averaged form. */
    public static boolean isAveraged(Map<String, String> metadata) { return AVERAGED.equals(metadata.get(SPACE_MOE_KEY)); }

    /** Writes the model (atomically) with its configuration. */
    public void save(Path path) throws IOException {
        save(path, false);
    }

    /** Writes the model (atomically) with its configuration, its weights as F16 when {@code half}. */
    public void save(Path path, boolean half) throws IOException {
        NonFinite.require(stateDict(), "refusing to write the model " + path);
        save(path, fileMetadata(config, averaged), half);
    }

    /**
     * Writes the averaged form of this (full) model, atomically and one tensor at a time: each
     * Space-MoE layer's experts averaged into one FFN as inference averages them, so a model
     * opened from it infers the same values bit for bit (F32; with {@code half} the weights are
     * rounded to F16 after averaging).
     */
    @SuppressWarnings("try")
    public void saveAveraged(Path path, boolean half) throws IOException {
        if (averaged) {
            save(path, half);
            return;
        }
        Map<String, Tensor> own = stateDict();
        NonFinite.require(own, "refusing to write the model " + path);
        Map<String, List<String>> sources = averagedSources();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (String name : sources.keySet()) shapes.put(name, own.get(sources.get(name).get(0)).dims());
        try (SafeTensorsWriter w = SafeTensorsWriter.open(path, shapes, fileMetadata(config, true), half)) {
            for (var e : sources.entrySet()) {
                List<String> from = e.getValue();
                try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
                    w.write(e.getKey(), SpaceMoE.meanOfExperts(from.size(), i -> own.get(from.get(i)), false));
                }
            }
            w.commit();
        }
    }

    /**
     * Each state-dict name of this model's averaged form and the full form's names it comes from,
     * in order: the experts' tensors (expert order) for an averaged FFN tensor, the same name for
     * everything else (the first stage included).
     */
    private Map<String, List<String>> averagedSources() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        Map<String, List<String>> unet = UNetLayout.of(config.unet()).averagedSources();
        for (int k = 0; k < config.experts(); k++) {
            String prefix = "sampling.experts." + k + ".";
            for (var e : unet.entrySet()) out.put(prefix + e.getKey(), e.getValue().stream().map(n -> prefix + n).toList());
        }
        for (String name : firstStage.stateDict().keySet()) out.put("first_stage." + name, List.of("first_stage." + name));
        return out;
    }

    // ---- reading --------------------------------------------------------------------------------

    /** Reads a model file in the full form onto the CPU; see {@link #open(Path, Device)}. */
    public static MoesrModel open(Path path) throws IOException { return open(path, Device.CPU); }

    /**
     * Reads a model file in the full form: the configuration from its metadata, then every weight
     * (strictly: names and shapes must all match) straight onto {@code device}, into a model built
     * without drawing random weights. The averaged form is refused with a one-line message: it has
     * no experts to train or export (use {@link #openForInference}).
     */
    public static MoesrModel open(Path path, Device device) throws IOException {
        try (SafeTensorsFile f = openModelFile(path)) {
            MoesrConfig config = configOf(f, path);
            if (isAveraged(f.metadata())) {
                throw new IOException(path + " is the averaged inference form of a " + config.name() + " model (" + SPACE_MOE_KEY + " = " + AVERAGED
                        + ": each Space-MoE layer's experts averaged into one FFN); it serves inference only, while training, export and"
                        + " routed inference need the full model file with every expert");
            }
            MoesrModel model = skeleton(config, false, device);
            try {
                model.loadFrom(f, true);
                requireFinite(model, path);
            } catch (IllegalArgumentException e) {
                model.release();
                throw new IOException(path + " does not match its own configuration " + config.name() + ": " + e.getMessage(), e);
            } catch (IOException | RuntimeException | Error e) {
                model.release();
                throw e;
            }
            return model;
        }
    }

    /**
     * Reads a model file, in either form, into the averaged (inference-only) model on
     * {@code device}: an averaged file as it is; a full file with each Space-MoE layer's experts
     * averaged as they are read (one layer's tensors at a time), so the experts never sit in
     * memory. Inference gives the same values, bit for bit, as the full model opened with
     * {@link #open} (the averaging is the one inference does).
     */
    public static MoesrModel openForInference(Path path, Device device) throws IOException {
        try (SafeTensorsFile f = openModelFile(path)) {
            MoesrConfig config = configOf(f, path);
            MoesrModel model = skeleton(config, true, device);
            try {
                if (isAveraged(f.metadata())) model.loadFrom(f, true);
                else model.loadAveraging(f);
                requireFinite(model, path);
            } catch (IllegalArgumentException e) {
                model.release();
                throw new IOException(path + " does not match its own configuration " + config.name() + ": " + e.getMessage(), e);
            } catch (IOException | RuntimeException | Error e) {
                model.release();
                throw e;
            }
            return model;
        }
    }

    /** A model with NaN or infinite weights is broken: say so, naming the tensor, rather than let its images be blamed later. */
    private static void requireFinite(MoesrModel model, Path path) throws IOException {
        String bad = NonFinite.firstNonFinite(model.stateDict());
        if (bad != null) {
            throw new IOException("the model " + path + " is broken: its tensor " + bad + " holds NaN or infinite values (it was trained until it"
                    + " diverged); export it again from a good checkpoint");
        }
    }

    private static SafeTensorsFile openModelFile(Path path) throws IOException {
        if (!Files.isRegularFile(path)) throw new IOException("no model file at " + path);
        try {
            return SafeTensorsFile.open(path);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);   // a malformed or truncated file: one kind of error for callers
        }
    }

    private static MoesrConfig configOf(SafeTensorsFile f, Path path) throws IOException {
        if (!KIND.equals(f.metadata().get(KIND_KEY))) {
            throw new IOException(path + " is not a moesr model file (its metadata has no " + KIND_KEY + " = " + KIND
                    + "; training checkpoints are turned into model files by 'train --stage export')");
        }
        try {
            return MoesrConfig.fromMetadata(f.metadata());
        } catch (IllegalArgumentException e) {
            throw new IOException(path + ": " + e.getMessage(), e);
        }
    }

    /**
     * A model of {@code config} on {@code device} whose weights are not drawn (uninitialised: every
     * one must then be loaded). The small constant tensors (norms, buffers) are made on the CPU and
     * moved.
     */
    static MoesrModel skeleton(MoesrConfig config, boolean averaged, Device device) {
        MoesrModel m;
        try (Init.Deferral d = Init.deferred(device)) {
            m = new MoesrModel(config, new Philox(0), averaged);
        }
        try {
            m.to(device);
        } catch (RuntimeException | Error e) {
            m.release();
            throw e;
        }
        return m;
    }

    /** Loads this averaged model from a full-form file, averaging each Space-MoE layer's experts as they are read; strict. */
    @SuppressWarnings("try")
    private void loadAveraging(TensorSource f) throws IOException {
        Map<String, Tensor> own = stateDict();
        Map<String, List<String>> sources = averagedSources();
        List<String> problems = new ArrayList<>();
        Set<String> used = new HashSet<>();
        for (var e : sources.entrySet()) {
            Shape want = own.get(e.getKey()).shape();
            for (String from : e.getValue()) {
                used.add(from);
                if (!f.names().contains(from)) problems.add("missing key '" + from + "' (expected shape " + want + ")");
                else if (!Arrays.equals(f.shape(from), want.dims())) problems.add("shape mismatch for '" + from + "': the file has " + Arrays.toString(f.shape(from)) + ", the model expects " + want);
            }
        }
        for (String name : f.names()) if (!used.contains(name)) problems.add("unexpected key '" + name + "'");
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + ", e.g. "
                    + String.join("; ", problems.subList(0, Math.min(5, problems.size()))));
        }
        for (var e : own.entrySet()) {
            List<String> from = sources.get(e.getKey());
            Tensor target = e.getValue();
            try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
                InPlace.assign(target, SpaceMoE.meanOfExperts(from.size(), i -> f.read(from.get(i), target.device()), true));
            }
        }
        stateChanged();
    }
}
