package dev.moesr.app;

import dev.moesr.app.cli.CommonOptions;
import dev.moesr.app.cli.Failures;
import dev.moesr.app.cli.Json;
import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.diffusion.unet.ReleasedCheckpoint;
import dev.moesr.diffusion.unet.UNet;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code import}: one model file from the authors' released checkpoints, converted to safetensors
 * with their own keys (docs/models.md): the UNet of each Sampling expert, the VQ first stage and,
 * optionally, the frequency-compensated decoder's fusion layers and refinement UNet. Everything
 * is loaded and checked in memory first; the output is written only when all of it loaded.
 */
@Command(name = "import", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Builds a model file from the authors' released checkpoints (converted to safetensors, keys unchanged).",
                "The UNets come from --experts (one file per Sampling expert, in time-stage order), the VQ first stage from --first-stage",
                "(a VQModel state dict, or an LDM checkpoint whose first_stage_model.* keys are used), the fusion layers and refinement",
                "UNet of the frequency-compensated decoder from --decoder (keys decoder.fusion_layer_*, decoder.unet_1.*)."})
public final class ImportCommand implements Callable<Integer> {
    static final String LDM_FIRST_STAGE_PREFIX = "first_stage_model.";

    @Option(names = "--config", required = true, paramLabel = "NAME", description = "The preset the checkpoints were trained as: moesr-x8, moesr-x4 or tiny.")
    String config;

    @Option(names = "--experts", required = true, split = ",", paramLabel = "FILE", description = "One released checkpoint per Sampling expert, comma-separated, in order.")
    List<Path> experts;

    @Option(names = "--first-stage", required = true, paramLabel = "FILE", description = "The VQ first stage: a VQModel state dict or an LDM checkpoint (first_stage_model.* keys).")
    Path firstStage;

    @Option(names = "--decoder", paramLabel = "FILE", description = "The frequency-compensated decoder's checkpoint (its fusion layers and refinement UNet are taken); without it they keep their initial values.")
    Path decoder;

    @Option(names = "--raw", description = "Import the raw UNet weights instead of their EMA (the EMA is what the released sampler uses).")
    boolean raw;

    @Option(names = "--out", required = true, paramLabel = "MODEL.safetensors", description = "The model file to write.")
    Path out;

    @Option(names = "--overwrite", description = "Replace --out if it exists.")
    boolean overwrite;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    @Override public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try {
            MoesrConfig c = preset(config);
            checkInputs(c);
            List<String> report = new ArrayList<>();
            MoesrModel model = new MoesrModel(c, new Philox(0));
            try {
                for (int k = 0; k < experts.size(); k++) {
                    int n = loadExpert(model.sampling().expert(k), experts.get(k), k, c, !raw);
                    say(stdout, report, String.format(Locale.ROOT, "expert %d: %d UNet tensors (%s) from %s", k, n, raw ? "raw" : "EMA", experts.get(k)));
                }
                say(stdout, report, loadFirstStage(model, firstStage));
                if (decoder != null) say(stdout, report, loadDecoder(model, decoder));
                else say(stdout, report, "no --decoder: the fusion layers and refinement UNet keep their initial values");
                model.save(out);
            } finally {
                model.release();
            }
            say(stdout, report, "wrote " + out + " (" + c.name() + ")");
            if (common.json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("out", out.toString());
                o.put("config", c.name());
                o.put("weights", raw ? "raw" : "ema");
                o.put("log", report);
                stdout.println(Json.write(o));
                stdout.flush();
            }
            return 0;
        } catch (Exception e) {
            return Failures.report(err, "import", e, common.verbose);
        }
    }

    /** A progress line: printed (unless --quiet or --json) and kept for the JSON summary. */
    private void say(PrintWriter out, List<String> report, String line) {
        report.add(line);
        if (!common.quiet && !common.json) {
            out.println(line);
            out.flush();
        }
    }

    private static MoesrConfig preset(String name) {
        if (!MoesrConfig.presetNames().contains(name.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("--config '" + name + "' is not a preset (" + String.join(", ", MoesrConfig.presetNames()) + ")");
        }
        return MoesrConfig.byName(name);
    }

    /** Everything that can be checked before any weight is read. */
    private void checkInputs(MoesrConfig c) {
        if (experts.size() != c.experts()) {
            throw new IllegalArgumentException("--experts takes " + c.experts() + " files for " + c.name()
                    + " (one per Sampling expert, in time-stage order), got " + experts.size());
        }
        for (int k = 0; k < experts.size(); k++) requireFile(experts.get(k), "--experts file " + (k + 1));
        requireFile(firstStage, "--first-stage");
        if (decoder != null) requireFile(decoder, "--decoder");
        if (Files.exists(out) && !overwrite) throw new IllegalArgumentException(out + " exists; pass --overwrite to replace it");
        Path dir = out.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) throw new IllegalArgumentException("no directory " + dir + " to write --out into");
    }

    private static void requireFile(Path p, String what) {
        if (!Files.isRegularFile(p)) throw new IllegalArgumentException("no such file: " + p + " (" + what + ")");
    }

    /** Loads expert {@code k}'s UNet from a released checkpoint; returns the number of tensors. */
    static int loadExpert(UNet unet, Path file, int k, MoesrConfig c, boolean ema) throws IOException {
        String where = "expert " + k + " (" + file + ")";
        String prefix = ema ? ReleasedCheckpoint.EMA_PREFIX : ReleasedCheckpoint.MODEL_PREFIX;
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            if (ema && f.entries().keySet().stream().noneMatch(key -> key.startsWith(prefix))) {
                throw new IllegalArgumentException(where + " has no EMA weights (no " + prefix + "* keys); pass --raw to import the raw UNet weights");
            }
            Map<String, Tensor> read = new LinkedHashMap<>();
            try {
                // only the UNet's entries: a released file also holds the first stage and the schedule buffers
                for (String key : f.entries().keySet()) if (key.startsWith(prefix)) read.put(key, f.read(key));
                Map<String, Tensor> state;
                try {
                    state = ReleasedCheckpoint.unetState(read, c.unet(), ema);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
                }
                Map<Tensor, String> releasedKey = new IdentityHashMap<>();
                for (var e : read.entrySet()) releasedKey.put(e.getValue(), e.getKey());
                Map<String, Shape> expected = new LinkedHashMap<>();
                for (var e : unet.stateDict().entrySet()) expected.put(e.getKey(), e.getValue().shape());
                List<String> mismatches = new ArrayList<>();
                for (var e : state.entrySet()) {
                    Shape want = expected.get(e.getKey());
                    if (want != null && !want.equals(e.getValue().shape())) {
                        mismatches.add(releasedKey.get(e.getValue()) + " (our " + e.getKey() + ") is " + e.getValue().shape() + " in the file, " + c.name() + " expects " + want);
                    }
                }
                throwMismatches(where, mismatches, c);
                try {
                    unet.loadStateDict(state, true);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
                }
                return state.size();
            } finally {
                for (Tensor t : read.values()) t.release();
            }
        }
    }

    /**
     * Loads the VQ first stage (everything but the fusion layers and refinement UNet) from a plain
     * VQModel state dict or from an LDM checkpoint's first_stage_model.* entries; returns a line
     * saying which form was found.
     */
    static String loadFirstStage(MoesrModel model, Path file) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            boolean ldm = f.entries().keySet().stream().anyMatch(key -> key.startsWith(LDM_FIRST_STAGE_PREFIX));
            String form = ldm ? "LDM checkpoint, first_stage_model.* keys" : "VQModel state dict";
            String where = "first stage (" + file + ", " + form + ")";
            Map<String, String> fileKeys = new LinkedHashMap<>();   // our name -> the file's key
            int lossEntries = 0, compensationEntries = 0;
            for (String key : f.entries().keySet()) {
                if (ldm && !key.startsWith(LDM_FIRST_STAGE_PREFIX)) continue;
                String ours = ldm ? key.substring(LDM_FIRST_STAGE_PREFIX.length()) : key;
                if (ours.startsWith("loss.")) lossEntries++;   // the training loss (discriminator, LPIPS) saved along with a VQ-GAN
                else if (isCompensation(ours)) compensationEntries++;   // those come from --decoder
                else fileKeys.put(ours, key);
            }
            Map<String, Shape> expected = new LinkedHashMap<>();
            for (var e : model.firstStage().stateDict().entrySet()) if (!isCompensation(e.getKey())) expected.put(e.getKey(), e.getValue().shape());
            checkEntries(f, fileKeys, expected, where, model.config());
            Map<String, Tensor> state = new LinkedHashMap<>();
            try {
                for (var e : fileKeys.entrySet()) state.put(e.getKey(), f.read(e.getValue()));
                try {
                    model.firstStage().loadFirstStage(state);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
                }
            } finally {
                for (Tensor t : state.values()) t.release();
            }
            return "first stage: " + state.size() + " tensors from " + file + " (" + form + ")"
                    + (lossEntries > 0 ? ", " + lossEntries + " loss.* entries ignored" : "")
                    + (compensationEntries > 0 ? ", " + compensationEntries + " fusion/refinement entries ignored (they come from --decoder)" : "");
        }
    }

    /** Loads the fusion layers and refinement UNet from the authors' decoder checkpoint (with or without the LDM prefix). */
    static String loadDecoder(MoesrModel model, Path file) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            Map<String, String> fileKeys = new LinkedHashMap<>();
            for (String key : f.entries().keySet()) {
                String ours = key.startsWith(LDM_FIRST_STAGE_PREFIX) ? key.substring(LDM_FIRST_STAGE_PREFIX.length()) : key;
                if (isCompensation(ours)) fileKeys.put(ours, key);
            }
            String where = "decoder (" + file + ")";
            if (fileKeys.isEmpty()) {
                throw new IllegalArgumentException(where + " holds no frequency-compensated decoder weights (no decoder.fusion_layer_* or decoder.unet_1.* keys)");
            }
            Map<String, Shape> expected = new LinkedHashMap<>();
            for (var e : model.firstStage().stateDict().entrySet()) if (isCompensation(e.getKey())) expected.put(e.getKey(), e.getValue().shape());
            checkEntries(f, fileKeys, expected, where, model.config());
            Map<String, Tensor> state = new LinkedHashMap<>();
            try {
                for (var e : fileKeys.entrySet()) state.put(e.getKey(), f.read(e.getValue()));
                model.firstStage().loadStateDict(state, false);
            } finally {
                for (Tensor t : state.values()) t.release();
            }
            return "decoder: " + state.size() + " fusion-layer and refinement-UNet tensors from " + file;
        }
    }

    /** Missing, unexpected and mis-shaped entries (from the file's header), before any data is read. */
    private static void checkEntries(SafeTensorsFile f, Map<String, String> fileKeys, Map<String, Shape> expected, String where, MoesrConfig c) {
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), mismatches = new ArrayList<>();
        for (String ours : expected.keySet()) if (!fileKeys.containsKey(ours)) missing.add(ours);
        for (var e : fileKeys.entrySet()) {
            Shape want = expected.get(e.getKey());
            if (want == null) {
                unexpected.add(e.getValue());
                continue;
            }
            int[] have = f.entries().get(e.getValue()).shape();
            if (!Arrays.equals(have, want.dims())) mismatches.add(e.getValue() + " is " + Arrays.toString(have) + " in the file, " + c.name() + " expects " + want);
        }
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IllegalArgumentException(where + ": "
                    + (missing.isEmpty() ? "" : missing.size() + " missing keys, e.g. " + missing.subList(0, Math.min(5, missing.size())))
                    + (missing.isEmpty() || unexpected.isEmpty() ? "" : "; ")
                    + (unexpected.isEmpty() ? "" : unexpected.size() + " unexpected keys, e.g. " + unexpected.subList(0, Math.min(5, unexpected.size())))
                    + "; is it a checkpoint of " + c.name() + "?");
        }
        throwMismatches(where, mismatches, c);
    }

    private static void throwMismatches(String where, List<String> mismatches, MoesrConfig c) {
        if (mismatches.isEmpty()) return;
        throw new IllegalArgumentException(where + ": " + mismatches.size() + " shape mismatch" + (mismatches.size() == 1 ? "" : "es") + ", e.g. "
                + String.join("; ", mismatches.subList(0, Math.min(3, mismatches.size()))) + " (is it a checkpoint of " + c.name() + "?)");
    }

    private static boolean isCompensation(String key) {
        return key.startsWith("decoder.fusion_layer_") || key.startsWith("decoder.unet_1.");
    }
}
