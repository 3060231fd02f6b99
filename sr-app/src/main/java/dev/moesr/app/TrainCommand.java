package dev.moesr.app;

import dev.moesr.app.cli.CommonOptions;
import dev.moesr.app.cli.Failures;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.image.MatlabResize;
import dev.moesr.app.metrics.FullReference;
import dev.moesr.app.metrics.Plane;
import dev.moesr.app.train.DecoderTrainer;
import dev.moesr.app.train.FirstStageFiles;
import dev.moesr.app.train.TripleCache;
import dev.moesr.app.train.ValidationCrops;
import dev.moesr.diffusion.autoencoder.PatchDiscriminator;
import dev.moesr.diffusion.lpips.Lpips;
import dev.moesr.diffusion.sampling.DdimSampler;
import dev.moesr.diffusion.sampling.SamplingPlan;
import dev.moesr.app.train.GracefulStop;
import dev.moesr.app.train.StepLog;
import dev.moesr.app.train.TrainingPatches;
import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.diffusion.autoencoder.VqModel;
import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.sampling.NoiseSchedule;
import dev.moesr.diffusion.train.Stage1Trainer;
import dev.moesr.diffusion.train.TrainingCheckpoint;
import dev.moesr.diffusion.unet.ExpertSharing;
import dev.moesr.diffusion.unet.UNet;
import dev.moesr.nn.InPlace;
import dev.moesr.nn.Init;
import dev.moesr.nn.io.NonFiniteException;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.nn.loss.Losses;
import dev.moesr.nn.optim.Adam;
import dev.moesr.nn.optim.Ema;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.Backends;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code train}: stage 0 (the VQ first stage), stage 1 (one Sampling expert), and export to a model file. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train the VQ first stage (--stage 0), one Sampling expert (--stage 1), the decoder (--stage 2), or assemble a model file (--stage export).",
                "See docs/training.md for the stages, the files they write and how to resume."})
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--stage", required = true, paramLabel = "0|1|2|export", description = "What to train or assemble.")
    String stage;

    @Option(names = "--config", required = true, paramLabel = "NAME|FILE", description = "A preset (moesr-x8, moesr-x4, tiny) or a file whose metadata holds one.")
    String config;

    @Option(names = "--expert", paramLabel = "K", description = "Stage 1: the Sampling expert (time stage) to train, 0-based.")
    Integer expert;

    @Option(names = "--data", paramLabel = "DIR", description = "Folder of HR training images.")
    Path data;

    @Option(names = "--val-data", paramLabel = "DIR",
            description = "Folder of HR images held out for validation (with --validate-every); without it the validation crops come from --data.")
    Path valData;

    @Option(names = "--steps", defaultValue = "1000", description = "Optimiser steps to reach (a resumed run continues up to this count; default ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--batch", defaultValue = "4", description = "Crops per micro-batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--accumulate", defaultValue = "1", description = "Micro-batches per optimiser step (default ${DEFAULT-VALUE}).")
    int accumulate;

    @Option(names = "--lr", description = "Learning rate (default: stage 1 5e-5 as the paper, stage 0 1e-4).")
    Double lr;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of initialisation, crops, timesteps and noise (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda[:N] (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--resume", paramLabel = "CKPT", description = "Continue from a checkpoint of this stage (and expert).")
    Path resume;

    @Option(names = "--out", required = true, paramLabel = "DIR|FILE", description = "Output folder (stages 0, 1) or model file (export).")
    Path out;

    @Option(names = "--crop", defaultValue = "512", description = "HR crop size; the latent is crop / latent factor, the LR crop / scale (default ${DEFAULT-VALUE}).")
    int crop;

    @Option(names = "--pipeline", defaultValue = "bicubic", description = "Degradation: bicubic or realesrgan (default ${DEFAULT-VALUE}).")
    String pipeline;

    @Option(names = "--first-stage", paramLabel = "MODEL_OR_CKPT", description = "The VQ first stage: a model file, a stage-0 or a stage-2 checkpoint.")
    Path firstStage;

    @Option(names = "--val-crop", paramLabel = "N", description = "Side of the validation crops (default: the --crop; 192 or more gives NIQE).")
    Integer valCrop;

    @Option(names = "--checkpoint-every", defaultValue = "0", description = "Write the checkpoint every N steps (0: only at the end).")
    long checkpointEvery;

    @Option(names = "--validate-every", defaultValue = "0",
            description = "Every N steps, PSNR/SSIM/NIQE over the validation crops (the " + ValidationCrops.PER_IMAGE + " most textured of each held image) and a picture of them (0: never).")
    long validateEvery;

    @Option(names = "--expert-checkpoints", split = ",", paramLabel = "CKPT", description = "Export: the stage-1 checkpoints of experts 0, 1, ... in order.")
    List<Path> expertCheckpoints;

    @Option(names = "--model", paramLabel = "MODEL", description = "Stage 2: a model file whose experts make the latents (instead of --expert-checkpoints).")
    Path model;

    @Option(names = "--triples", defaultValue = "100", description = "Stage 2: (LR, latent, HR) triples to generate and train on (default ${DEFAULT-VALUE}).")
    int triples;

    @Option(names = "--sampling-steps", defaultValue = "200", description = "Stage 2: sampler steps per triple (default ${DEFAULT-VALUE}, the paper's).")
    int samplingSteps;

    @Option(names = "--sampler", defaultValue = "ddpm", paramLabel = "ddpm|ddim",
            description = "Stage 2: the sampler of the triples' latents, ddpm (ancestral, the paper's) or ddim (eta 0), best the one inference uses (default ${DEFAULT-VALUE}).")
    String tripleSampler;

    @Option(names = "--cache", paramLabel = "DIR", description = "Stage 2: folder of the triples (default OUT/triples); triples already there are kept.")
    Path cache;

    @Option(names = "--lpips-weights", paramLabel = "FILE", description = "Stage 2: converted LPIPS (VGG16) weights; without them LPIPS is off.")
    Path lpipsWeights;

    @Option(names = "--init", paramLabel = "MODEL",
            description = "Stage 1: start expert K from its weights in this model file (fresh optimiser and EMA) instead of random ones; e.g. to train the shipped model further.")
    Path init;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16",
            description = "Export: store the weights as float32 or float16 (half the size; default ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--averaged",
            description = "Export: write the averaged inference form (each Space-MoE layer's experts as one FFN, as inference computes them): smaller, same images; stage 1 --init can start from it.")
    boolean averagedExport;

    @Option(names = "--overwrite", description = "Export: replace an existing --out file (refused otherwise; never one of the export's own inputs).")
    boolean overwrite;

    @Option(names = "--codebook-range", paramLabel = "R",
            description = "Stage 0: start the codebook uniform in [-R, R] per component instead of taming's +-1/entries, so every entry is in use from the first step (e.g. 1).")
    Double codebookRange;

    @Option(names = "--disc-start", defaultValue = "5000", description = "Stage 2: step at which the GAN loss starts (default ${DEFAULT-VALUE}).")
    long discStart;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    private PrintWriter out() { return spec.commandLine().getOut(); }

    private PrintWriter err() { return spec.commandLine().getErr(); }

    @Override public Integer call() {
        try {
            MoesrConfig c = InfoCommand.resolve(config);
            switch (stage) {
                case "0" -> stage0(c);
                case "1" -> stage1(c);
                case "2" -> stage2(c);
                case "export" -> export(c);
                default -> throw new IllegalArgumentException("unknown --stage '" + stage + "'; use 0, 1, 2 or export");
            }
            return 0;
        } catch (Exception | OutOfMemoryError e) {
            return Failures.report(err(), "train", e, common.verbose);
        }
    }

    private void checkLoopOptions() {
        if (data == null) throw new IllegalArgumentException("--data DIR is required for --stage " + stage);
        if (steps < 1) throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        if (accumulate < 1) throw new IllegalArgumentException("--accumulate must be >= 1, got " + accumulate);
        if (checkpointEvery < 0 || validateEvery < 0) throw new IllegalArgumentException("--checkpoint-every and --validate-every must be >= 0");
        if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException("--out " + out + " is a file; stage " + stage + " writes into a folder");
    }

    /** Metadata a resumed run must share with its checkpoint, or the resumed run would not continue the same one. */
    private Map<String, String> runMetadata(MoesrConfig c) {
        Map<String, String> m = new LinkedHashMap<>(c.toMetadata());
        m.put("train.seed", Long.toString(seed));
        m.put("train.crop", Integer.toString(crop));
        m.put("train.batch", Integer.toString(batch));
        m.put("train.accumulate", Integer.toString(accumulate));
        m.put("train.pipeline", pipeline);
        return m;
    }

    /** Refuses a checkpoint of another configuration or other run settings before anything is loaded. */
    private static void checkResumable(Path ckpt, Map<String, String> expected, String stage) throws IOException {
        if (!Files.isRegularFile(ckpt)) throw new IOException("--resume: no checkpoint at " + ckpt);
        Map<String, String> meta;
        try (SafeTensorsFile f = SafeTensorsFile.open(ckpt)) {
            meta = f.metadata();
        } catch (IllegalArgumentException e) {
            throw new IOException("--resume " + ckpt + ": " + e.getMessage(), e);
        }
        if (!stage.equals(meta.get("stage"))) {
            throw new IOException("--resume " + ckpt + " is a checkpoint of stage " + meta.get("stage") + ", this run trains stage " + stage);
        }
        for (var e : expected.entrySet()) {
            String found = meta.get(e.getKey());
            if (!e.getValue().equals(found)) {
                throw new IOException("--resume " + ckpt + " has " + e.getKey() + " = " + found + ", this run has " + e.getValue()
                        + " (resume with the configuration and options of the run that wrote it)");
            }
        }
    }

    /** The validation crops: from --val-data, or (with a warning) from the training images; null without --validate-every. */
    private ValidationCrops validationCrops(MoesrConfig c) throws IOException {
        if (validateEvery == 0) return null;
        if (valData == null) {
            err().println("sr-app train: warning: no --val-data; validation crops come from the training images (give held-out images for an honest score)");
            err().flush();
        }
        int size = valCrop != null ? valCrop : crop;
        int m = c.scale() * c.latentFactor() * c.unet().downsampleFactor();
        if (size <= 0 || size % m != 0) throw new IllegalArgumentException("--val-crop must be a positive multiple of " + m + ", got " + size);
        return new ValidationCrops(valData != null ? valData : data, pipeline, c.scale(), c.latentFactor(), size);
    }

    /**
     * Scores the validation outputs (one [n, 3, S, S] tensor in [-1, 1] per chunk of crops, in
     * order), writes the first four side by side to OUT/validation/{name}-step{N}.png (atomically)
     * and returns the scores with the file's name.
     */
    private Map<String, Object> validationEvent(String name, long step, ValidationCrops val, List<Image> outputs) throws IOException {
        Path folder = out.resolve("validation");
        Files.createDirectories(folder);
        Path file = folder.resolve(name + "-step" + step + ".png");
        ImageFiles.write(file, ValidationCrops.mosaic(outputs, 4));   // written to a temporary file and moved into place
        Map<String, Object> m = new LinkedHashMap<>(val.scores(outputs));
        m.put("val_image", file.toString());
        return m;
    }

    /** The images of a [n, 3, S, S] tensor in [-1, 1], clamped to [0, 1]. */
    private static List<Image> images(Tensor batch) {
        int n = batch.dim(0), size = batch.dim(2);
        float[] all = batch.toFloatArray();
        List<Image> list = new ArrayList<>();
        for (int i = 0; i < n; i++) list.add(toImage(Arrays.copyOfRange(all, i * 3 * size * size, (i + 1) * 3 * size * size), size));
        return list;
    }

    /**
     * Stops the run when a step's loss or gradient norm is NaN or infinite: the weights are lost
     * from then on, and the checkpoint of the last good step must not be overwritten.
     */
    private static void requireFinite(double loss, double gradNorm, long step, Path ckpt) {
        if (!Double.isFinite(loss) || !Double.isFinite(gradNorm)) {
            throw new NonFiniteException("the " + (Double.isFinite(loss) ? "gradient norm" : "loss") + " is " + (Double.isFinite(loss) ? gradNorm : loss)
                    + " at step " + step + ": the training diverged (lower --lr); the checkpoint " + ckpt + " is kept as it was, from its last good step");
        }
    }

    private Device resolveDevice() {
        return Backends.resolve(Device.parse(device));
    }

    /** The first stage, frozen, for encoding HR crops to latents. */
    /** Whether the first stage of this stage-1 run has a trained decoder compensation (else validation decodes plainly). */
    private boolean compensationTrained;

    private FrequencyCompensatedVqModel frozenFirstStage(MoesrConfig c, Device dev) throws IOException {
        FrequencyCompensatedVqModel fs = new FrequencyCompensatedVqModel(c.vq(), c.decoder(), new Philox(seed));
        if (firstStage != null) {
            compensationTrained = FirstStageFiles.load(firstStage, fs, c);
        } else {
            err().println("sr-app train: warning: no --first-stage; latents come from a freshly initialised VQ encoder (fine for a smoke run, useless for a real model)");
            err().flush();
        }
        fs.setTrainable(false);
        fs.eval();
        fs.to(dev);
        return fs;
    }

    @SuppressWarnings("try")
    private static Tensor encode(FrequencyCompensatedVqModel fs, Tensor hr) {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            return s.keep(fs.encode(hr));
        }
    }

    // ---- stage 1 ------------------------------------------------------------------------------

    @SuppressWarnings("try")
    private void stage1(MoesrConfig c) throws IOException {
        checkLoopOptions();
        if (expert == null) throw new IllegalArgumentException("--stage 1 needs --expert K (0 to " + (c.experts() - 1) + ")");
        if (expert < 0 || expert >= c.experts()) {
            throw new IllegalArgumentException("--expert " + expert + " is out of range: " + c.name() + " has experts 0 to " + (c.experts() - 1));
        }
        TrainingPatches patches = new TrainingPatches(data, pipeline, c.scale(), c.latentFactor(), crop, seed);
        ValidationCrops validation = validationCrops(c);
        Map<String, String> meta = runMetadata(c);
        if (resume != null) {
            Map<String, String> expected = new LinkedHashMap<>(meta);
            expected.put("expert", Integer.toString(expert));
            checkResumable(resume, expected, "1");
        }
        Device dev = resolveDevice();
        Backend backend = Backends.get(dev);
        FrequencyCompensatedVqModel fs = frozenFirstStage(c, dev);
        UNet unet = new UNet(c.unet(), new Philox(seed * 31 + expert + 1));
        if (init != null && resume == null) {
            // either form: an averaged file's FFN starts every Space-MoE expert of its layer (weight sharing then draws them apart)
            MoesrModel from = MoesrModel.openForInference(init, Device.CPU);
            try {
                if (!from.config().toMetadata().equals(c.toMetadata())) {
                    throw new IOException("--init " + init + " is configuration " + from.config().name() + ", this run is " + c.name());
                }
                Map<String, Tensor> source = from.sampling().expert(expert).stateDict(), state = new LinkedHashMap<>();
                for (String name : unet.stateDict().keySet()) {
                    state.put(name, source.get(name.replaceFirst("\\.moe\\.experts\\.\\d+\\.", ".moe.ffn.")));
                }
                unet.loadStateDict(state, true);
            } finally {
                from.release();
            }
        }
        unet.to(dev);
        unet.train();
        ExpertSharing sharing = ExpertSharing.released();
        var settings = new Stage1Trainer.Settings(expert, c.experts(), lr != null ? lr : 5e-5, 0, 0, 0, 0.9999, seed);
        NoiseSchedule schedule = NoiseSchedule.linear(c.trainSteps(), 0.0015, 0.0155);   // LDM's linear schedule over T steps
        Stage1Trainer trainer = new Stage1Trainer(unet, unet::forward, schedule, settings,
                s -> sharing.apply(unet, s));
        Path ckpt = out.resolve("stage1-expert" + expert + ".safetensors");
        StepLog log = new StepLog(out(), common.json, common.quiet, backend);
        try (GracefulStop stop = new GracefulStop()) {
            if (resume != null) {
                trainer.resume(resume);
                log.event("resumed", Map.of("step", trainer.step(), "from", resume.toString()));
            }
            while (trainer.step() < steps && !stop.requested()) {
                long s = trainer.step();
                unet.setRoutingRng(new Philox(TrainingPatches.routingSeed(seed, s)));
                List<Tensor[]> micro = new ArrayList<>();
                List<TrainingPatches.Batch> batches = new ArrayList<>();
                try {
                    for (int m = 0; m < accumulate; m++) {
                        TrainingPatches.Batch b = patches.batch(s, m, batch, dev);
                        batches.add(b);
                        micro.add(new Tensor[] {encode(fs, b.hr()), b.condition()});
                    }
                    Stage1Trainer.StepResult r = trainer.step(micro);
                    requireFinite(r.loss(), r.gradNorm(), r.step(), ckpt);
                    log.step(r.step(), steps, r.loss(), r.learningRate(), batch * accumulate, Map.of("grad_norm", r.gradNorm()));
                } finally {
                    for (Tensor[] t : micro) t[0].release();
                    for (TrainingPatches.Batch b : batches) b.release();
                }
                if (validateEvery > 0 && trainer.step() % validateEvery == 0) {
                    Map<String, Object> event = new LinkedHashMap<>();
                    event.put("step", trainer.step());
                    event.put("val_loss", validate1(validation, fs, unet, trainer, schedule, dev));
                    event.putAll(validationImage1(validation, fs, unet, trainer, schedule, dev));
                    log.event("validation", event);
                }
                if (checkpointEvery > 0 && trainer.step() % checkpointEvery == 0 && trainer.step() < steps) {
                    trainer.save(ckpt, meta);
                    log.event("checkpoint", Map.of("step", trainer.step(), "file", ckpt.toString()));
                }
            }
            trainer.save(ckpt, meta);
            log.event(stop.requested() ? "interrupted" : "done", Map.of("step", trainer.step(), "file", ckpt.toString()));
        } finally {
            trainer.release();
            unet.release();
            fs.release();
        }
    }

    /** Epsilon MSE over the validation crops at fixed timesteps spread across the expert's stage and fixed noise (EMA weights). */
    @SuppressWarnings("try")
    private double validate1(ValidationCrops val, FrequencyCompensatedVqModel fs, UNet unet, Stage1Trainer trainer, NoiseSchedule schedule, Device dev) {
        int n = val.crops().size();
        int[] stageRange = trainer.stage();
        double sum = 0;
        unet.setRoutingRng(new Philox(TrainingPatches.routingSeed(seed, -1)));
        try (Ema.Swapped shadow = trainer.ema().useShadowWeights()) {
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                int[] t = new int[to - from];
                for (int i = from; i < to; i++) t[i - from] = stageRange[0] + (int) ((stageRange[1] - stageRange[0]) * (i + 0.5) / n);
                try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
                    Tensor z0 = fs.encode(val.hr(from, to, dev));
                    Tensor noise = Tensor.randn(new Philox(seed ^ 0x5EEDL, from), dev, z0.dims());
                    Tensor eps = unet.forward(Tensor.cat(1, schedule.addNoise(z0, noise, t), val.condition(from, to, dev)), t);
                    sum += Losses.mse(eps, noise).item() * (to - from);
                }
            }
        } finally {
            unet.train();
        }
        return sum / n;
    }

    /** DDIM steps of the validation image, spread over the expert's own stage. */
    static final int VALIDATION_DDIM_STEPS = 5;

    /**
     * The expert's denoising ability in its own stage, on every validation crop (EMA weights):
     * each crop is encoded, its latent noised (fixed noise) to the top timestep of the stage,
     * denoised by DDIM (eta 0) down to the stage's lowest timestep, where x0 is predicted and
     * decoded by the first stage (its plain VQ decoder while the compensation is untrained, as
     * from a stage-0 checkpoint). Writes out/validation/expert{K}-step{N}.png and returns the
     * scores (PSNR/SSIM/NIQE as {@link ValidationCrops#scores}).
     */
    @SuppressWarnings("try")
    private Map<String, Object> validationImage1(ValidationCrops val, FrequencyCompensatedVqModel fs, UNet unet,
                                                 Stage1Trainer trainer, NoiseSchedule schedule, Device dev) throws IOException {
        int[] stageRange = trainer.stage();
        int[] t = stageTimesteps(stageRange[1] - 1, stageRange[0], VALIDATION_DDIM_STEPS);
        unet.setRoutingRng(new Philox(TrainingPatches.routingSeed(seed, -1)));
        List<Image> outputs = new ArrayList<>();
        int n = val.crops().size();
        try (Ema.Swapped shadow = trainer.ema().useShadowWeights()) {
            unet.eval();
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
                    Tensor z0 = fs.encode(val.hr(from, to, dev));
                    Tensor condition = val.condition(from, to, dev);
                    Tensor noise = Tensor.randn(new Philox(seed ^ 0x1DA6EL, from), dev, z0.dims());
                    int[] top = new int[to - from];
                    Arrays.fill(top, t[0]);
                    Tensor z = schedule.addNoise(z0, noise, top);
                    Tensor x0 = null;
                    for (int i = 0; i < t.length; i++) {
                        double a = schedule.alphaCumprod(t[i]);
                        int[] ti = new int[to - from];
                        Arrays.fill(ti, t[i]);
                        Tensor eps = unet.forward(Tensor.cat(1, z, condition), ti);
                        x0 = z.sub(eps.mul((float) Math.sqrt(1 - a))).mul((float) (1 / Math.sqrt(a)));
                        if (i + 1 < t.length) {   // DDIM with eta 0: move to the next timestep along the predicted x0
                            double next = schedule.alphaCumprod(t[i + 1]);
                            z = x0.mul((float) Math.sqrt(next)).add(eps.mul((float) Math.sqrt(1 - next)));
                        }
                    }
                    // before stage 2 the fusion layers and refinement UNet are random: decode with the plain VQ decoder
                    outputs.addAll(images(compensationTrained ? fs.decode(x0, fs.lrFeatures(val.lrUpscaled(from, to, dev))) : fs.decodePlain(x0)));
                }
            }
        } finally {
            unet.train();
        }
        return validationEvent("expert" + expert, trainer.step(), val, outputs);
    }

    /** {@code count} timesteps from {@code top} down to {@code bottom}, both included, evenly spread and distinct. */
    static int[] stageTimesteps(int top, int bottom, int count) {
        if (top < bottom || count < 1) throw new IllegalArgumentException("need top >= bottom and count >= 1, got " + top + ", " + bottom + ", " + count);
        int n = Math.min(count, top - bottom + 1);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = n == 1 ? top : top - (int) Math.round((double) i * (top - bottom) / (n - 1));
        return t;
    }

    /** A [1, 3, size, size] image in [-1, 1] to an RGB image in [0, 1] (clamped). */
    private static Image toImage(float[] signed, int size) {
        float[] p = new float[signed.length];
        for (int i = 0; i < p.length; i++) p[i] = Math.max(0f, Math.min(1f, (signed[i] + 1f) / 2f));
        return new Image(3, size, size, p);
    }

    // ---- stage 0 ------------------------------------------------------------------------------

    @SuppressWarnings("try")
    private void stage0(MoesrConfig c) throws IOException {
        checkLoopOptions();
        TrainingPatches patches = new TrainingPatches(data, pipeline, c.scale(), c.latentFactor(), crop, seed);
        ValidationCrops validation = validationCrops(c);
        Map<String, String> meta = runMetadata(c);
        meta.put("stage", "0");
        if (resume != null) checkResumable(resume, runMetadata(c), "0");
        Device dev = resolveDevice();
        Backend backend = Backends.get(dev);
        VqModel vq = new VqModel(c.vq(), new Philox(seed));
        if (codebookRange != null) {
            if (!(codebookRange > 0)) throw new IllegalArgumentException("--codebook-range must be > 0, got " + codebookRange);
            try (Scope s = Scope.open()) {   // a resumed run overwrites it with the checkpoint's codebook
                InPlace.assign(vq.quantizer().codebook(), Init.uniform(new Philox(seed ^ 0xC0DEL), Device.CPU, codebookRange, c.vq().nEmbed(), c.vq().embedDim()));
            }
        }
        vq.to(dev);
        vq.train();
        double rate = lr != null ? lr : 1e-4;
        Adam adam = new Adam(vq.namedTrainableParameters(), rate, 0.5, 0.9, 1e-8, 0);
        Path ckpt = out.resolve("stage0.safetensors");
        StepLog log = new StepLog(out(), common.json, common.quiet, backend);
        long step = 0;
        try (GracefulStop stop = new GracefulStop()) {
            if (resume != null) {
                step = TrainingCheckpoint.step(TrainingCheckpoint.load(resume, vq, null, adam, Map.of("stage", "0")));
                log.event("resumed", Map.of("step", step, "from", resume.toString()));
            }
            while (step < steps && !stop.requested()) {
                adam.zeroGrad();
                double l1Sum = 0, codebookSum = 0;
                for (int m = 0; m < accumulate; m++) {
                    TrainingPatches.Batch b = patches.batch(step, m, batch, dev);
                    try (Scope s = Scope.open()) {
                        VqModel.Reconstruction rec = vq.forward(b.hr());
                        Tensor l1 = Losses.l1(rec.image(), b.hr());
                        Tensor loss = l1.add(rec.codebookLoss());
                        l1Sum += l1.item();
                        codebookSum += rec.codebookLoss().item();
                        loss.mul(1f / accumulate).backward();
                    } finally {
                        b.release();
                    }
                }
                requireFinite(l1Sum + codebookSum, 0, step + 1, ckpt);   // before the step: a NaN gradient never reaches the weights
                adam.step();
                step++;
                log.step(step, steps, (l1Sum + codebookSum) / accumulate, rate, batch * accumulate,
                        Map.of("l1", l1Sum / accumulate, "codebook", codebookSum / accumulate));
                if (validateEvery > 0 && step % validateEvery == 0) {
                    Map<String, Object> event = new LinkedHashMap<>();
                    event.put("step", step);
                    event.putAll(validate0(validation, vq, step, dev));
                    log.event("validation", event);
                }
                if (checkpointEvery > 0 && step % checkpointEvery == 0 && step < steps) {
                    TrainingCheckpoint.save(ckpt, vq, null, adam, step, meta);
                    log.event("checkpoint", Map.of("step", step, "file", ckpt.toString()));
                }
            }
            TrainingCheckpoint.save(ckpt, vq, null, adam, step, meta);
            log.event(stop.requested() ? "interrupted" : "done", Map.of("step", step, "file", ckpt.toString()));
        } finally {
            adam.release();
            vq.release();
        }
    }

    /** Every validation crop through the autoencoder (evaluation mode): scores, picture, and the mean L1 as {@code val_l1}. */
    @SuppressWarnings("try")
    private Map<String, Object> validate0(ValidationCrops val, VqModel vq, long step, Device dev) throws IOException {
        List<Image> outputs = new ArrayList<>();
        double l1 = 0;
        int n = val.crops().size();
        try {
            vq.eval();
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
                    Tensor hr = val.hr(from, to, dev);
                    Tensor image = vq.forward(hr).image();
                    l1 += Losses.l1(image, hr).item() * (to - from);
                    outputs.addAll(images(image));
                }
            }
        } finally {
            vq.train();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("val_l1", l1 / n);
        m.putAll(validationEvent("stage0", step, val, outputs));
        return m;
    }

    /** Every validation crop's latent (sampled once by the experts) through the frequency-compensated decoder (evaluation mode). */
    @SuppressWarnings("try")
    private Map<String, Object> validate2(ValidationCrops val, List<Tensor> latents, FrequencyCompensatedVqModel fs, long step, Device dev) throws IOException {
        List<Image> outputs = new ArrayList<>();
        double l1 = 0;
        int n = val.crops().size();
        try {
            fs.eval();
            for (int i = 0; i < n; i++) {
                try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
                    Tensor hr = val.hr(i, i + 1, dev);
                    Tensor image = fs.forward(val.lrUpscaled(i, i + 1, dev), latents.get(i)).image();
                    l1 += Losses.l1(image, hr).item();
                    outputs.addAll(images(image));
                }
            }
        } finally {
            fs.train();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("val_l1", l1 / n);
        m.putAll(validationEvent("stage2", step, val, outputs));
        return m;
    }

    /** The latent of each validation crop, sampled by the experts as the training triples' are (fixed noise per crop). */
    @SuppressWarnings("try")
    private List<Tensor> sampleValidationLatents(ValidationCrops val, MoesrModel sampler, MoesrConfig c, Device dev) {
        DdimSampler ddim = new DdimSampler(SamplingPlan.uniform(NoiseSchedule.linear(c.trainSteps(), 0.0015, 0.0155), samplingSteps, tripleEta()));
        int latent = val.size() / c.latentFactor();
        List<Tensor> latents = new ArrayList<>();
        for (int i = 0; i < val.crops().size(); i++) {
            try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
                Tensor z = ddim.sample(sampler.sampling(), val.condition(i, i + 1, dev), new int[] {1, c.vq().embedDim(), latent, latent},
                        new Philox(seed ^ 0x7A11DL, i), null);
                latents.add(s.keep(z));
            }
        }
        return latents;
    }

    // ---- stage 2 ------------------------------------------------------------------------------

    private void stage2(MoesrConfig c) throws IOException {
        checkLoopOptions();
        if (samplingSteps < 1) throw new IllegalArgumentException("--sampling-steps must be >= 1, got " + samplingSteps);
        if ((model == null) == (expertCheckpoints == null)) {
            throw new IllegalArgumentException("--stage 2 needs the stage-1 sampler: either --model MODEL or --expert-checkpoints a,b,c,d (not both)");
        }
        if (model == null && expertCheckpoints.size() != c.experts()) {
            throw new IllegalArgumentException("--expert-checkpoints needs " + c.experts() + " stage-1 checkpoints, got " + expertCheckpoints.size());
        }
        if (model == null && firstStage == null) {
            throw new IllegalArgumentException("--stage 2 with --expert-checkpoints needs --first-stage (a stage-0 checkpoint or a model file)");
        }
        TrainingPatches patches = new TrainingPatches(data, pipeline, c.scale(), c.latentFactor(), crop, seed ^ 0x7121E5L);
        Map<String, String> meta = runMetadata(c);
        meta.put("train.triples", Integer.toString(triples));
        tripleEta();   // a bad --sampler fails before anything is loaded
        if (resume != null) checkResumable(resume, meta, "2");
        Device dev = resolveDevice();
        Backend backend = Backends.get(dev);
        StepLog log = new StepLog(out(), common.json, common.quiet, backend);
        MoesrModel sampler = model != null ? MoesrModel.open(model) : new MoesrModel(c, new Philox(0));
        FrequencyCompensatedVqModel fs = new FrequencyCompensatedVqModel(c.vq(), c.decoder(), new Philox(seed));
        PatchDiscriminator disc = new PatchDiscriminator(new Philox(seed + 1));
        Lpips lpips = null;
        DecoderTrainer trainer = null;
        try {
            if (!sampler.config().toMetadata().equals(c.toMetadata())) throw new IOException("--model " + model + " is configuration " + sampler.config().name() + ", this run is " + c.name());
            if (model == null) for (int k = 0; k < c.experts(); k++) loadExpertEma(expertCheckpoints.get(k), k, sampler.sampling().expert(k), c);
            if (firstStage != null) FirstStageFiles.load(firstStage, fs, c);
            else fs.loadStateDict(sampler.firstStage().stateDict(), true);
            sampler.to(dev);
            sampler.eval();
            TripleCache cacheDir = new TripleCache(cache != null ? cache : out.resolve("triples"), triples);
            int made = cacheDir.generate(patches, sampler.sampling(), new DdimSampler(SamplingPlan.uniform(
                    NoiseSchedule.linear(c.trainSteps(), 0.0015, 0.0155), samplingSteps, tripleEta())), c.vq().embedDim(), seed, dev);
            log.event("triples", Map.of("made", made, "kept", triples - made));
            ValidationCrops validation = validationCrops(c);
            List<Tensor> heldLatents = validation == null ? null : sampleValidationLatents(validation, sampler, c, dev);
            sampler.release();
            sampler = null;
            backend.resetPeakBytes();   // the steps' peak_bytes: training alone, not the sampler's experts
            if (lpipsWeights != null) {
                lpips = Lpips.vgg16(new Philox(0));
                lpips.loadWeights(lpipsWeights);
                lpips.setTrainable(false);
                lpips.eval();
                lpips.to(dev);
            } else {
                err().println("sr-app train: warning: no --lpips-weights; the LPIPS term is off (L1 + GAN + focal frequency only)");
                err().flush();
            }
            fs.to(dev);
            disc.to(dev);
            fs.train();
            disc.train();
            trainer = new DecoderTrainer(fs, disc, lpips, new DecoderTrainer.Settings(lr != null ? lr : 1e-4, discStart, 1.0, 1.0, 10.0, seed));
            Path ckpt = out.resolve("stage2.safetensors");
            try (GracefulStop stop = new GracefulStop()) {
                if (resume != null) {
                    trainer.resume(resume);
                    log.event("resumed", Map.of("step", trainer.step(), "from", resume.toString()));
                }
                while (trainer.step() < steps && !stop.requested()) {
                    List<TripleCache.Triple> triplesOfStep = new ArrayList<>();
                    DecoderTrainer.StepResult r;
                    try {
                        List<DecoderTrainer.Batch> micro = new ArrayList<>();
                        for (int m = 0; m < accumulate; m++) {
                            TripleCache.Triple t = cacheDir.batch(seed, trainer.step(), m, batch, dev);
                            triplesOfStep.add(t);
                            micro.add(new DecoderTrainer.Batch(t.lrUpscaled(), t.latent(), t.hr()));
                        }
                        r = trainer.step(micro);
                    } finally {
                        for (TripleCache.Triple t : triplesOfStep) t.release();
                    }
                    requireFinite(r.loss(), r.nllGradNorm(), r.step(), ckpt);
                    Map<String, Object> v = new LinkedHashMap<>();
                    v.put("l1", r.l1());
                    v.put("lpips", r.lpips());
                    v.put("focal_frequency", r.focalFrequency());
                    v.put("g_loss", r.generator());
                    v.put("d_loss", r.discriminator());
                    v.put("adaptive_weight", r.adaptiveWeight());
                    v.put("grad_norm_nll", r.nllGradNorm());
                    v.put("grad_norm_g", r.generatorGradNorm());
                    log.step(r.step(), steps, r.loss(), lr != null ? lr : 1e-4, batch * accumulate, v);
                    if (validation != null && trainer.step() % validateEvery == 0) {
                        Map<String, Object> event = new LinkedHashMap<>();
                        event.put("step", trainer.step());
                        event.putAll(validate2(validation, heldLatents, fs, trainer.step(), dev));
                        log.event("validation", event);
                    }
                    if (checkpointEvery > 0 && trainer.step() % checkpointEvery == 0 && trainer.step() < steps) {
                        trainer.save(ckpt, meta);
                        log.event("checkpoint", Map.of("step", trainer.step(), "file", ckpt.toString()));
                    }
                }
                trainer.save(ckpt, meta);
                log.event(stop.requested() ? "interrupted" : "done", Map.of("step", trainer.step(), "file", ckpt.toString()));
            }
        } finally {
            if (sampler != null) sampler.release();
            if (trainer != null) trainer.release();
            if (lpips != null) lpips.release();
            fs.release();
            disc.release();
        }
    }

    private double tripleEta() {
        return switch (tripleSampler) {
            case "ddpm" -> 1.0;
            case "ddim" -> 0.0;
            default -> throw new IllegalArgumentException("--sampler must be ddpm or ddim, got '" + tripleSampler + "'");
        };
    }

    // ---- export -------------------------------------------------------------------------------

    private void export(MoesrConfig c) throws IOException {
        if (expertCheckpoints == null || expertCheckpoints.size() != c.experts()) {
            throw new IllegalArgumentException("--expert-checkpoints needs " + c.experts() + " stage-1 checkpoints (experts 0 to " + (c.experts() - 1)
                    + " in order, comma-separated), got " + (expertCheckpoints == null ? 0 : expertCheckpoints.size()));
        }
        if (firstStage == null) throw new IllegalArgumentException("--stage export needs --first-stage (a stage-0 or stage-2 checkpoint, or a model file)");
        if (Files.isDirectory(out)) throw new IllegalArgumentException("--out " + out + " is a folder; export writes one model file (e.g. model.safetensors)");
        if (!dtype.equals("f32") && !dtype.equals("f16")) throw new IllegalArgumentException("--dtype must be f32 or f16, got '" + dtype + "'");
        List<Path> inputs = new ArrayList<>(expertCheckpoints);
        inputs.add(firstStage);
        for (Path in : inputs) {
            if (Files.exists(out) && Files.exists(in) && Files.isSameFile(out, in)) {
                throw new IllegalArgumentException("--out " + out + " is one of the export's inputs; write the model to another file");
            }
        }
        if (Files.exists(out) && !overwrite) throw new IllegalArgumentException("--out " + out + " already exists; pass --overwrite to replace it, or choose another file");
        MoesrModel model = new MoesrModel(c, new Philox(0));
        long parameters = model.parameterCount();
        try {
            for (int k = 0; k < c.experts(); k++) loadExpertEma(expertCheckpoints.get(k), k, model.sampling().expert(k), c);
            FirstStageFiles.load(firstStage, model.firstStage(), c);
            if (averagedExport) model.saveAveraged(out, dtype.equals("f16"));
            else model.save(out, dtype.equals("f16"));
        } finally {
            model.release();
        }
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("model", out.toString());
        o.put("config", c.name());
        o.put("parameters", parameters);
        if (common.json) out().println(StepLog.oneLine(o));
        else out().println("wrote " + out + " (" + c.name() + ", EMA weights of " + c.experts() + " experts)");
        out().flush();
    }

    /**
     * The EMA weights of a stage-1 checkpoint into expert k (its buffers as saved), after checking
     * it is expert k of this configuration. One tensor at a time: a paper-scale checkpoint
     * (weights, EMA and Adam moments, 3.8 GB) never sits in memory whole, and nothing is read twice.
     */
    private static void loadExpertEma(Path ckpt, int k, UNet unet, MoesrConfig c) throws IOException {
        if (!Files.isRegularFile(ckpt)) throw new IOException("--expert-checkpoints: no file at " + ckpt);
        try (SafeTensorsFile f = SafeTensorsFile.open(ckpt)) {
            Map<String, String> meta = f.metadata();
            if (!"1".equals(meta.get("stage")) || !Integer.toString(k).equals(meta.get("expert"))) {
                throw new IOException(ckpt + " is not a stage-1 checkpoint of expert " + k + " (its metadata: stage " + meta.get("stage")
                        + ", expert " + meta.get("expert") + "); list the experts' checkpoints in order 0.." + (c.experts() - 1));
            }
            if (!c.name().equals(meta.get("moesr.name"))) {
                throw new IOException(ckpt + " was trained with configuration " + meta.get("moesr.name") + ", this export is " + c.name());
            }
            // trainable weights come from their EMA shadows (named without dots, as Ema names them), buffers as they are;
            // the checkpoint must hold the weights, the shadows and the EMA's counters, and nothing else but optimiser state
            Map<String, String> source = new LinkedHashMap<>();
            var trainable = unet.namedTrainableParameters().keySet();
            Map<String, Tensor> own = unet.stateDict();
            Set<String> expected = new HashSet<>(List.of(TrainingCheckpoint.EMA_PREFIX + "decay", TrainingCheckpoint.EMA_PREFIX + "num_updates"));
            for (var e : own.entrySet()) {
                String shadow = TrainingCheckpoint.EMA_PREFIX + e.getKey().replace(".", "");
                boolean averaged = trainable.contains(e.getKey());
                for (String key : averaged ? List.of(e.getKey(), shadow) : List.of(e.getKey())) {
                    SafeTensorsFile.Entry entry = f.entries().get(key);
                    if (entry == null || !Arrays.equals(entry.shape(), e.getValue().dims())) {
                        throw new IOException(ckpt + " does not fit expert " + k + " of " + c.name() + ": "
                                + (entry == null ? "it has no tensor " + key : key + " has shape " + Arrays.toString(entry.shape())
                                + ", expected " + e.getValue().shape()));
                    }
                    expected.add(key);
                }
                source.put(e.getKey(), averaged ? shadow : e.getKey());
            }
            for (String key : f.entries().keySet()) {
                if (!expected.contains(key) && !key.startsWith(TrainingCheckpoint.OPTIMIZER_PREFIX)) {
                    throw new IOException(ckpt + " does not fit expert " + k + " of " + c.name() + ": unexpected tensor " + key);
                }
            }
            for (var e : own.entrySet()) {
                Tensor t = f.read(source.get(e.getKey()), e.getValue().device());
                try {
                    InPlace.assign(e.getValue(), t);
                } finally {
                    t.release();
                }
            }
            unet.stateChanged();
        }
    }
}
