package dev.moesr.app;

import dev.moesr.app.cli.CommonOptions;
import dev.moesr.app.cli.Failures;
import dev.moesr.app.cli.Json;
import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.unet.ReleasedCheckpoint;
import dev.moesr.diffusion.unet.SpaceMoE;
import dev.moesr.diffusion.unet.UNetLayout;
import dev.moesr.nn.Init;
import dev.moesr.nn.io.SafeTensorsWriter;
import dev.moesr.nn.io.TensorSource;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code import}: one model file from the authors' released checkpoints, read as they are
 * published ({@code torch.save} files: a flat state dict, or a Lightning checkpoint's
 * {@code state_dict}) or converted to safetensors with their own keys (docs/models.md): the UNet
 * of each Sampling expert, the VQ first stage and, optionally, the frequency-compensated decoder's
 * fusion layers and refinement UNet.
 *
 * <p>Memory-bounded: every input's names and shapes are checked against the configuration first
 * (the UNets' from {@link UNetLayout}, without allocating them), then the model file is written
 * tensor by tensor, each read, translated (and with {@code --averaged}, the Space-MoE experts
 * averaged) as it is written; only the first stage's skeleton (a few percent of the model) is built.
 * Nothing is written unless every check passed, and the file appears atomically.
 */
@Command(name = "import", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Builds a model file from the authors' released checkpoints: their PyTorch files (.ckpt, .pth, .pt; a flat state dict",
                "or a Lightning checkpoint) or safetensors conversions with the same keys.",
                "The UNets come from --experts (one file per Sampling expert, in time-stage order), the VQ first stage from --first-stage",
                "(a VQModel state dict, or an LDM checkpoint whose first_stage_model.* keys are used), the fusion layers and refinement",
                "UNet of the frequency-compensated decoder from --decoder (keys decoder.fusion_layer_*, decoder.unet_1.*).",
                "The model file is written tensor by tensor: the checkpoints never sit in memory whole."})
public final class ImportCommand implements Callable<Integer> {
    static final String LDM_FIRST_STAGE_PREFIX = "first_stage_model.";

    @Option(names = "--config", required = true, paramLabel = "NAME", description = "The preset the checkpoints were trained as: moesr-x8, moesr-x4, moesr-x4-small or tiny.")
    String config;

    @Option(names = "--experts", required = true, split = ",", paramLabel = "FILE",
            description = "One released checkpoint per Sampling expert (.ckpt/.pth/.pt or .safetensors), comma-separated, in order.")
    List<Path> experts;

    @Option(names = "--first-stage", required = true, paramLabel = "FILE",
            description = "The VQ first stage: a VQModel state dict (the authors' fa_vae.pth) or an LDM checkpoint (first_stage_model.* keys).")
    Path firstStage;

    @Option(names = "--decoder", paramLabel = "FILE",
            description = "The frequency-compensated decoder's checkpoint (the authors' fa_vae.pth; its fusion layers and refinement UNet are taken);"
                    + " without it they get a fresh model's initial values.")
    Path decoder;

    @Option(names = "--raw", description = "Import the raw UNet weights instead of their EMA (the EMA is what the released sampler uses).")
    boolean raw;

    @Option(names = "--averaged",
            description = "Write the averaged inference form: each Space-MoE layer's experts averaged into one FFN, as inference computes them"
                    + " (about a third of the size for moesr-x8; for inference only, training refuses it).")
    boolean averaged;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16", description = "How the weights are stored (default ${DEFAULT-VALUE}; f16 halves the file).")
    String dtype;

    @Option(names = "--out", required = true, paramLabel = "MODEL.safetensors", description = "The model file to write.")
    Path out;

    @Option(names = "--overwrite", description = "Replace --out if it exists.")
    boolean overwrite;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    /** Produces one output tensor's values when its turn comes to be written. */
    @FunctionalInterface
    private interface Producer {
        float[] values() throws IOException;
    }

    /** The model file to write: names and shapes in order, and where each tensor's values come from. */
    private static final class Plan {
        final Map<String, int[]> shapes = new LinkedHashMap<>();
        final Map<String, Producer> producers = new LinkedHashMap<>();

        void put(String name, int[] shape, Producer p) {
            shapes.put(name, shape);
            producers.put(name, p);
        }

        long bytes(int bytesPerValue) {
            long n = 0;
            for (int[] s : shapes.values()) {
                long k = 1;
                for (int d : s) k *= d;
                n += k;
            }
            return n * bytesPerValue;
        }
    }

    @Override public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        List<TensorSource> opened = new ArrayList<>();
        FrequencyCompensatedVqModel skeleton = null;
        try {
            MoesrConfig c = preset(config);
            checkInputs(c);
            boolean half = dtype.equals("f16");
            List<String> report = new ArrayList<>();
            Plan plan = new Plan();
            for (int k = 0; k < experts.size(); k++) {
                TensorSource f = open(experts.get(k), "--experts file " + (k + 1), opened);
                int n = planExpert(plan, f, k, c, !raw, averaged);
                say(stdout, report, String.format(Locale.ROOT, "expert %d: %d UNet tensors (%s) from %s (%s)", k, n, raw ? "raw" : "EMA", experts.get(k), f.kind()));
            }
            // the first stage's names and shapes come from its module, built without drawing weights unless a fresh
            // model's initial values are needed (no --decoder: the fusion layers and refinement UNet keep them)
            try (Init.Deferral d = decoder != null ? Init.deferred(Device.CPU) : null) {
                skeleton = new FrequencyCompensatedVqModel(c.vq(), c.decoder(), new Philox(0));
            }
            TensorSource fsFile = open(firstStage, "--first-stage", opened);
            TensorSource decFile = decoder == null ? null : open(decoder, "--decoder", opened);
            say(stdout, report, planFirstStage(plan, skeleton, fsFile, decFile, c));
            if (decoder == null) say(stdout, report, "no --decoder: the fusion layers and refinement UNet get a fresh model's initial values (seed 0)");
            if (averaged) say(stdout, report, "--averaged: each Space-MoE layer's " + c.unet().spaceExperts() + " experts averaged into one FFN (an inference-only model file)");
            long bytes = plan.bytes(half ? 2 : 4);
            say(stdout, report, String.format(Locale.ROOT, "writing %s: %d tensors, %.2f GB of %s weights", out, plan.shapes.size(), bytes / 1e9, half ? "F16" : "F32"));
            try (SafeTensorsWriter w = SafeTensorsWriter.open(out, plan.shapes, MoesrModel.fileMetadata(c, averaged), half)) {
                for (var e : plan.producers.entrySet()) w.write(e.getKey(), e.getValue().values());
                w.commit();
            }
            say(stdout, report, "wrote " + out + " (" + c.name() + (averaged ? ", averaged inference form" : "") + ")");
            if (common.json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("out", out.toString());
                o.put("config", c.name());
                o.put("weights", raw ? "raw" : "ema");
                o.put("form", averaged ? "averaged" : "full");
                o.put("dtype", dtype);
                o.put("bytes", Files.size(out));
                o.put("log", report);
                stdout.println(Json.write(o));
                stdout.flush();
            }
            return 0;
        } catch (Exception e) {
            return Failures.report(err, "import", e, common.verbose);
        } finally {
            for (TensorSource f : opened) {
                try {
                    f.close();
                } catch (IOException ignored) {
                    // closing a file we only read
                }
            }
            if (skeleton != null) skeleton.release();
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

    /** Everything that can be checked before any file is opened. */
    private void checkInputs(MoesrConfig c) {
        if (!dtype.equals("f32") && !dtype.equals("f16")) throw new IllegalArgumentException("--dtype must be f32 or f16, got '" + dtype + "'");
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

    private static TensorSource open(Path p, String what, List<TensorSource> opened) throws IOException {
        TensorSource f;
        try {
            f = TensorSource.open(p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
        }
        opened.add(f);
        return f;
    }

    /**
     * Plans expert {@code k}'s UNet from a released checkpoint (its names and shapes checked
     * first: nothing is read); returns the number of UNet tensors it holds.
     */
    static int planExpert(Plan plan, TensorSource f, int k, MoesrConfig c, boolean ema, boolean averaged) {
        String where = "expert " + k + " (" + f.path() + ")";
        String prefix = ema ? ReleasedCheckpoint.EMA_PREFIX : ReleasedCheckpoint.MODEL_PREFIX;
        if (ema && f.names().stream().noneMatch(key -> key.startsWith(prefix))) {
            throw new IllegalArgumentException(where + " has no EMA weights (no " + prefix + "* keys); pass --raw to import the raw UNet weights");
        }
        Map<String, String> keys;   // our name -> the file's key; other entries (first stage, schedule buffers) are ignored
        try {
            keys = ReleasedCheckpoint.unetKeys(f.names(), c.unet(), ema);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
        UNetLayout layout = UNetLayout.of(c.unet());
        Map<String, int[]> expected = layout.stateShapes();
        List<String> mismatches = new ArrayList<>();
        for (var e : keys.entrySet()) {
            int[] want = expected.get(e.getKey()), have = f.shape(e.getValue());
            if (!Arrays.equals(want, have)) {
                mismatches.add(e.getValue() + " (our " + e.getKey() + ") is " + Shape.of(have) + " in the file, " + c.name() + " expects " + Shape.of(want));
            }
        }
        throwMismatches(where, mismatches, c);
        String ours = "sampling.experts." + k + ".";
        if (!averaged) {
            for (var e : keys.entrySet()) plan.put(ours + e.getKey(), expected.get(e.getKey()), () -> f.readFloats(e.getValue()));
        } else {
            Map<String, int[]> averagedShapes = layout.averagedStateShapes();
            for (var e : layout.averagedSources().entrySet()) {
                List<String> from = e.getValue().stream().map(keys::get).toList();
                plan.put(ours + e.getKey(), averagedShapes.get(e.getKey()), from.size() == 1 ? () -> f.readFloats(from.get(0)) : () -> mean(f, from));
            }
        }
        return keys.size();
    }

    /** The mean of the experts' tensors {@code keys}, as inference averages them ({@link SpaceMoE#meanOfExperts}). */
    @SuppressWarnings("try")
    private static float[] mean(TensorSource f, List<String> keys) throws IOException {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            return SpaceMoE.meanOfExperts(keys.size(), i -> f.read(keys.get(i), Device.CPU), true).toFloatArray();
        }
    }

    /**
     * Plans the first stage: everything but the fusion layers and refinement UNet from a plain
     * VQModel state dict or an LDM checkpoint's first_stage_model.* entries, those from the
     * decoder's checkpoint (with or without the LDM prefix) or, without one, from {@code skeleton}'s
     * initial values. Returns a line saying what was found.
     */
    static String planFirstStage(Plan plan, FrequencyCompensatedVqModel skeleton, TensorSource f, TensorSource dec, MoesrConfig c) {
        boolean ldm = f.names().stream().anyMatch(key -> key.startsWith(LDM_FIRST_STAGE_PREFIX));
        String form = ldm ? "LDM checkpoint, first_stage_model.* keys" : "VQModel state dict";
        String where = "first stage (" + f.path() + ", " + form + ")";
        Map<String, String> fileKeys = new LinkedHashMap<>();   // our name -> the file's key
        int lossEntries = 0, compensationEntries = 0;
        for (String key : f.names()) {
            if (ldm && !key.startsWith(LDM_FIRST_STAGE_PREFIX)) continue;
            String ours = ldm ? key.substring(LDM_FIRST_STAGE_PREFIX.length()) : key;
            if (ours.startsWith("loss.")) lossEntries++;   // the training loss (discriminator, LPIPS) saved along with a VQ-GAN
            else if (isCompensation(ours)) compensationEntries++;   // those come from --decoder
            else fileKeys.put(ours, key);
        }
        Map<String, Tensor> initial = skeleton.stateDict();
        Map<String, int[]> expected = new LinkedHashMap<>(), compensation = new LinkedHashMap<>();
        for (var e : initial.entrySet()) (isCompensation(e.getKey()) ? compensation : expected).put(e.getKey(), e.getValue().dims());
        checkEntries(f, fileKeys, expected, where, c);

        Map<String, String> decKeys = new LinkedHashMap<>();
        if (dec != null) {
            for (String key : dec.names()) {
                String ours = key.startsWith(LDM_FIRST_STAGE_PREFIX) ? key.substring(LDM_FIRST_STAGE_PREFIX.length()) : key;
                if (isCompensation(ours)) decKeys.put(ours, key);
            }
            String decWhere = "decoder (" + dec.path() + ")";
            if (decKeys.isEmpty()) {
                throw new IllegalArgumentException(decWhere + " holds no frequency-compensated decoder weights (no decoder.fusion_layer_* or decoder.unet_1.* keys)");
            }
            checkEntries(dec, decKeys, compensation, decWhere, c);
        }
        for (var e : initial.entrySet()) {
            String name = e.getKey(), out = "first_stage." + name;
            int[] shape = e.getValue().dims();
            if (!isCompensation(name)) plan.put(out, shape, () -> f.readFloats(fileKeys.get(name)));
            else if (dec != null) plan.put(out, shape, () -> dec.readFloats(decKeys.get(name)));
            else plan.put(out, shape, e.getValue()::toFloatArray);
        }
        return "first stage: " + fileKeys.size() + " tensors from " + f.path() + " (" + form + ", " + f.kind() + ")"
                + (lossEntries > 0 ? ", " + lossEntries + " loss.* entries ignored" : "")
                + (compensationEntries > 0 ? ", " + compensationEntries + " fusion/refinement entries ignored (they come from --decoder)" : "")
                + (dec != null ? "; decoder: " + decKeys.size() + " fusion-layer and refinement-UNet tensors from " + dec.path() + " (" + dec.kind() + ")" : "");
    }

    /** Missing, unexpected and mis-shaped entries (from the file's header), before any data is read. */
    private static void checkEntries(TensorSource f, Map<String, String> fileKeys, Map<String, int[]> expected, String where, MoesrConfig c) {
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), mismatches = new ArrayList<>();
        for (String ours : expected.keySet()) if (!fileKeys.containsKey(ours)) missing.add(ours);
        for (var e : fileKeys.entrySet()) {
            int[] want = expected.get(e.getKey());
            if (want == null) {
                unexpected.add(e.getValue());
                continue;
            }
            int[] have = f.shape(e.getValue());
            if (!Arrays.equals(have, want)) mismatches.add(e.getValue() + " is " + Shape.of(have) + " in the file, " + c.name() + " expects " + Shape.of(want));
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
