package dev.moesr.app;

import dev.moesr.app.cli.CommonOptions;
import dev.moesr.app.cli.Failures;
import dev.moesr.app.cli.Json;
import dev.moesr.app.cli.Progress;
import dev.moesr.app.data.ImageFolder;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.infer.DefaultModel;
import dev.moesr.app.infer.SuperResolver;
import dev.moesr.app.infer.SuperResolver.Sampler;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.nn.io.AtomicFiles;
import dev.moesr.tensor.Device;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code infer}: super-resolve one image or every image of a folder with a model file. */
@Command(name = "infer", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Super-resolve an image or every image of a folder with a model file.",
                "A folder input writes <output>/<name>.png for each image; existing outputs are refused unless --overwrite.",
                "Exit codes: 0 done, 1 failed (bad input, model, existing outputs, memory, I/O), 2 bad command line."})
public final class InferCommand implements Callable<Integer> {
    enum SamplerName { ddpm, ddim }

    @Option(names = "--input", required = true, paramLabel = "FILE|DIR", description = "An LR image (.png, .jpg, .bmp) or a folder of them.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "FILE|DIR",
            description = "The output image (its extension picks the format), or a folder for a folder input (created if missing).")
    Path output;

    @Option(names = "--model", paramLabel = "PATH",
            description = "A model file written by 'train --stage export' or 'import', full or averaged (default: the shipped moesr-x4-small, models/" + DefaultModel.FILE_NAME + ").")
    Path model;

    @Option(names = "--scale", paramLabel = "N", description = "The expected upscaling factor (4 or 8); it must match the model's.")
    Integer scale;

    @Option(names = "--steps", paramLabel = "N", description = "Sampling steps, a divisor of 1000 (default: the model's; 200 for the paper's models).")
    Integer steps;

    @Option(names = "--sampler", paramLabel = "NAME", description = "ddpm (ancestral, eta 1) or ddim (eta 0) (default: the model's; ddpm for the paper's models).")
    SamplerName sampler;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed of the sampling noise (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "D", description = "auto, cpu, cuda or cuda:N (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--color-fix", negatable = true,
            description = "Match (or with --no-color-fix, do not) each channel's mean and spread to the bicubic-upscaled LR image (AdaIN) (default: the model's).")
    Boolean colorFix;

    @Option(names = "--fusion-weight", paramLabel = "W", description = "Weight of the LR features in the decoder (default: the model's).")
    Float fusionWeight;

    @Option(names = "--tile", paramLabel = "N",
            description = "Latent tile side for sampling and decoding; output tiles are N x latent factor pixels (default: the model's, 128).")
    Integer tile;

    @Option(names = "--overlap", paramLabel = "N", description = "Overlap of latent tiles (default: the model's).")
    Integer overlap;

    @Option(names = "--overwrite", description = "Replace existing output files (refused otherwise).")
    boolean overwrite;

    @Option(names = "--max-pixels", defaultValue = "16000000", paramLabel = "N",
            description = "Refuse input images with more pixels than this (default ${DEFAULT-VALUE}).")
    long maxPixels;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    private record Job(Path source, Path target) {}

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try {
            return run(out, err);
        } catch (Exception | OutOfMemoryError e) {
            if (isOutOfMemory(e)) {
                return Failures.report(err, "infer", new IOException("out of memory (" + e.getMessage()
                        + "); use a smaller --tile (now " + tile + "), or raise -Xmx for the CPU", e), common.verbose);
            }
            return Failures.report(err, "infer", e, common.verbose);
        }
    }

    /** An OutOfMemoryError, or a GPU backend's exception whose message (or a cause's) says out of memory. */
    static boolean isOutOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) return true;
            String m = t.getMessage();
            if (m != null && m.toLowerCase(Locale.ROOT).contains("out of memory")) return true;
            if (t.getCause() == t) break;
        }
        return false;
    }

    private int run(PrintWriter out, PrintWriter err) throws IOException {
        if (steps != null && (steps < 1 || steps > 1000 || 1000 % steps != 0)) {
            throw new IllegalArgumentException("--steps must divide the 1000 training timesteps (e.g. 200, 100, 50, 20, 10), got " + steps);
        }
        if (maxPixels < 1) throw new IllegalArgumentException("--max-pixels must be positive, got " + maxPixels);
        Device dev = Device.parse(device);
        List<Job> jobs = plan();
        if (!overwrite) refuseExisting(jobs);
        for (Job j : jobs) {   // every input is checked before any work (and read again when its turn comes)
            Image lr = ImageFiles.read(j.source, maxPixels);
            if (lr.hasAlpha() && ImageFiles.formatOf(j.target).equals("jpeg")) {
                throw new ImageException(j.source + " has an alpha channel, which JPEG cannot store; write " + j.target.getFileName() + " as .png instead");
            }
        }

        List<Map<String, Object>> results = new ArrayList<>();
        Path modelFile = model;
        if (modelFile == null) {
            modelFile = DefaultModel.require();
            if (!common.quiet) {
                err.println("infer: using the shipped model " + modelFile + " (moesr-x4-small, trained on CPUs: docs/default-model.md); --model FILE picks another");
                err.flush();
            }
        }
        // the averaged inference form, from either file form: a full file's Space-MoE experts are averaged as they are
        // read (what inference computes anyway), so the experts never sit in memory (moesr-x8: 2.4 GB of weights, not 7.1)
        try (SuperResolver sr = SuperResolver.open(modelFile, dev)) {
            if (scale != null && scale != sr.scale()) {
                throw new IllegalArgumentException("--scale " + scale + " does not match the model " + modelFile + ", which upscales " + sr.scale()
                        + "x; use a " + scale + "x model or drop --scale");
            }
            prepareOutputFolders(jobs);
            boolean show = !common.quiet && Progress.interactive();
            Progress progress = new Progress(err, show, jobs.size());
            for (int i = 0; i < jobs.size(); i++) {
                Job job = jobs.get(i);
                Image lr = ImageFiles.read(job.source, maxPixels);
                int index = i + 1;
                String name = job.source.getFileName().toString();
                long start = System.nanoTime();
                long[] phaseStart = {start};
                SuperResolver.Options o = new SuperResolver.Options().steps(steps).sampler(sampler == null ? null : sampler == SamplerName.ddim ? Sampler.DDIM : Sampler.DDPM)
                        .seed(seed).tile(tile).overlap(overlap).colorFix(colorFix).fusionWeight(fusionWeight)
                        .progress((phase, done, total) -> {
                            if (done == 1) phaseStart[0] = System.nanoTime();
                            progress.step(index, name + (phase == SuperResolver.Phase.SAMPLING ? " sampling " : " decoding ") + done + "/" + total
                                    + (done > 1 ? eta(phaseStart[0], done - 1, total - 1) : ""));
                        });
                Image hr = sr.upscale(lr, o);
                ImageFiles.write(job.target, hr);
                double seconds = (System.nanoTime() - start) / 1e9;
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("input", job.source.toString());
                r.put("file", job.target.toString());
                r.put("size", hr.sizeText());
                r.put("width", hr.width());
                r.put("height", hr.height());
                r.put("seconds", Math.round(seconds * 1000) / 1000.0);
                results.add(r);
            }
            progress.finish();
        }
        if (common.json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("images", results);
            out.println(Json.write(o));
        } else if (!common.quiet) {
            for (Map<String, Object> r : results) {
                out.printf(Locale.ROOT, "%s: %sx%s in %.1f s%n", r.get("file"), r.get("width"), r.get("height"), (Double) r.get("seconds"));
            }
        }
        out.flush();
        return 0;
    }

    private static String eta(long startNanos, int done, int total) {
        if (done == 0) return "";
        double perStep = (System.nanoTime() - startNanos) / 1e9 / done;
        long left = Math.round(perStep * (total - done));
        return String.format(Locale.ROOT, ", ETA %d:%02d", left / 60, left % 60);
    }

    /** A file input writes one file (into the output folder if that is an existing folder); a folder input writes name.png per image. */
    private List<Job> plan() throws IOException {
        List<Job> jobs = new ArrayList<>();
        if (Files.isDirectory(input)) {
            if (Files.exists(output) && !Files.isDirectory(output)) {
                throw new ImageException(output + ": is a file, but a folder input needs an output folder");
            }
            Map<String, Path> seen = new LinkedHashMap<>();
            for (Path s : ImageFolder.list(input)) {
                String stem = ImageFiles.stem(s);
                Path other = seen.put(stem, s);
                if (other != null) {
                    throw new ImageException(input + ": " + other.getFileName() + " and " + s.getFileName() + " would both be written to " + stem
                            + ".png; rename one of them");
                }
                jobs.add(new Job(s, output.resolve(stem + ".png")));
            }
        } else {
            if (!Files.exists(input)) throw new ImageException(input + ": no such file or folder");
            Path target = Files.isDirectory(output) ? output.resolve(ImageFiles.stem(input) + ".png") : output;
            ImageFiles.formatOf(target);   // an unknown output extension is an error before any work
            jobs.add(new Job(input, target));
        }
        return jobs;
    }

    private static void refuseExisting(List<Job> jobs) throws ImageException {
        List<Path> existing = new ArrayList<>();
        for (Job j : jobs) if (Files.exists(j.target)) existing.add(j.target);
        if (!existing.isEmpty()) {
            throw new ImageException(existing.size() + " output file(s) such as " + existing.get(0)
                    + " already exist; pass --overwrite to replace them, or choose another --output");
        }
    }

    /**
     * Creates (and deletes) a file in {@code dir}: permission bits alone do not say whether a file
     * can be made there (root ignores them; read-only file systems, ACLs and special file systems
     * refuse regardless).
     */
    static void checkWritable(Path dir) throws ImageException {
        try {
            Files.delete(AtomicFiles.newTemporarySibling(dir.resolve("write-check")));
        } catch (IOException e) {
            throw new ImageException(dir + ": the output folder is not writable (" + e.getClass().getSimpleName() + "); choose another --output", e);
        }
    }

    /** Creates the output folders and checks that they can be written, before the (long) sampling starts. */
    private static void prepareOutputFolders(List<Job> jobs) throws ImageException {
        for (Job j : jobs) {
            Path dir = j.target.toAbsolutePath().getParent();
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new ImageException(dir + ": cannot create the output folder (" + e.getMessage() + ")", e);
            }
            checkWritable(dir);
            if (Files.isDirectory(j.target)) throw new ImageException(j.target + ": is a folder; give an output file name");
        }
    }
}
