package dev.moesr.app;

import dev.moesr.app.cli.CommonOptions;
import dev.moesr.app.cli.Failures;
import dev.moesr.app.cli.Json;
import dev.moesr.app.cli.Progress;
import dev.moesr.app.data.Augment;
import dev.moesr.app.data.ImageFolder;
import dev.moesr.app.degrade.BicubicDegradation;
import dev.moesr.app.degrade.Degradation;
import dev.moesr.app.degrade.DegradedPair;
import dev.moesr.app.degrade.RealEsrganDegradation;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;
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
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.random.RandomGenerator;

/** {@code degrade}: makes LR/HR pairs from a folder of HR images. */
@Command(name = "degrade", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Make LR/HR pairs from a folder of HR images: writes OUTPUT/lr/NAME.png and OUTPUT/hr/NAME.png.",
                "bicubic: LR = MATLAB bicubic downscale; HR = the input cropped to a multiple of the scale.",
                "realesrgan: Real-ESRGAN second-order degradation with StableSR's settings; HR = the USM-sharpened target.",
                "The same seed gives the same pairs (each image's randomness depends only on the seed and its name).",
                "Exit codes: 0 done, 1 failed (bad input, existing outputs, I/O), 2 bad command line."})
public final class DegradeCommand implements Callable<Integer> {
    enum Pipeline { bicubic, realesrgan }

    @Option(names = "--input", required = true, paramLabel = "DIR", description = "Folder of HR images (.png, .jpg, .bmp).")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Folder to write lr/ and hr/ into (created if missing).")
    Path output;

    @Option(names = "--pipeline", required = true, paramLabel = "NAME", description = "bicubic or realesrgan.")
    Pipeline pipeline;

    @Option(names = "--scale", defaultValue = "4", paramLabel = "N", description = "Downscaling factor, 2..16 (default ${DEFAULT-VALUE}).")
    int scale;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed of the random degradations and crops (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--crop", paramLabel = "N",
            description = "Take one random N x N HR crop per image (N a multiple of the scale), e.g. 512 for the 4x blind setting.")
    Integer crop;

    @Option(names = "--overwrite", description = "Replace existing output files (refused otherwise).")
    boolean overwrite;

    @Option(names = "--max-pixels", defaultValue = "" + ImageFiles.DEFAULT_MAX_PIXELS, paramLabel = "N",
            description = "Refuse input images with more pixels than this (default ${DEFAULT-VALUE}).")
    long maxPixels;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    /** One input and where its pair goes. */
    private record Job(Path source, String name, Path lr, Path hr) {}

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try {
            return run(out, err);
        } catch (Exception | OutOfMemoryError e) {
            return Failures.report(err, "degrade", e, common.verbose);
        }
    }

    private int run(PrintWriter out, PrintWriter err) throws IOException {
        if (scale < 2 || scale > 16) throw new IllegalArgumentException("--scale must be in 2..16, got " + scale);
        if (crop != null && (crop < scale || crop % scale != 0)) {
            throw new IllegalArgumentException("--crop must be a positive multiple of the scale " + scale + ", got " + crop);
        }
        if (maxPixels < 1) throw new IllegalArgumentException("--max-pixels must be positive, got " + maxPixels);
        Degradation degradation = pipeline == Pipeline.bicubic ? new BicubicDegradation(scale) : new RealEsrganDegradation(scale);

        List<Path> sources = ImageFolder.list(input);
        Path lrDir = output.resolve("lr"), hrDir = output.resolve("hr");
        List<Job> jobs = plan(sources, lrDir, hrDir);
        if (!overwrite) refuseExisting(jobs);
        if (Files.exists(output) && !Files.isDirectory(output)) throw new ImageException(output + ": is a file, not a folder");
        Files.createDirectories(lrDir);
        Files.createDirectories(hrDir);

        Progress progress = new Progress(err, !common.quiet && Progress.interactive(), jobs.size());
        List<Object> records = new ArrayList<>();
        int done = 0;
        for (Job job : jobs) {
            progress.step(done, job.source.getFileName().toString());
            try {
                records.add(degradeOne(job, degradation));
            } catch (ImageException | IllegalArgumentException e) {
                progress.finish();
                String kept = done == 0 ? "" : " (stopped after " + done + " of " + jobs.size() + " pairs; those are kept)";
                String message = e instanceof ImageException ? e.getMessage() : job.source + ": " + e.getMessage();
                throw new ImageException(message + kept, e);
            }
            done++;
        }
        progress.finish();

        if (common.json) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("command", "degrade");
            result.put("pipeline", pipeline.name());
            result.put("scale", scale);
            result.put("seed", seed);
            result.put("crop", crop);
            result.put("input", input.toString());
            result.put("lr_dir", lrDir.toString());
            result.put("hr_dir", hrDir.toString());
            result.put("pairs", records);
            out.println(Json.write(result));
        } else {
            out.printf("wrote %d pair%s to %s and %s (%s x%d, seed %d)%n", jobs.size(), jobs.size() == 1 ? "" : "s", lrDir, hrDir,
                    pipeline, scale, seed);
        }
        out.flush();
        return 0;
    }

    private static List<Job> plan(List<Path> sources, Path lrDir, Path hrDir) throws ImageException {
        Map<String, Path> byName = new LinkedHashMap<>();
        List<Job> jobs = new ArrayList<>();
        for (Path s : sources) {
            String name = ImageFiles.stem(s);
            Path other = byName.put(name, s);
            if (other != null) {
                throw new ImageException(other.getFileName() + " and " + s.getFileName() + " would both be written as " + name
                        + ".png; rename one of them");
            }
            jobs.add(new Job(s, name, lrDir.resolve(name + ".png"), hrDir.resolve(name + ".png")));
        }
        return jobs;
    }

    private static void refuseExisting(List<Job> jobs) throws ImageException {
        List<Path> existing = new ArrayList<>();
        for (Job j : jobs) {
            if (Files.exists(j.lr)) existing.add(j.lr);
            if (Files.exists(j.hr)) existing.add(j.hr);
        }
        if (!existing.isEmpty()) {
            throw new ImageException(existing.get(0) + (existing.size() > 1 ? " and " + (existing.size() - 1) + " more output file(s)" : "")
                    + " already exist; pass --overwrite to replace them, or choose another --output");
        }
    }

    private Map<String, Object> degradeOne(Job job, Degradation degradation) throws ImageException {
        Image hr = ImageFiles.read(job.source, maxPixels);
        RandomGenerator rng = Degradation.generatorFor(seed, job.name);
        if (crop != null) {
            if (hr.height() < crop || hr.width() < crop) {
                throw new ImageException(job.source + ": is " + hr.sizeText() + ", smaller than the " + crop + "x" + crop + " crop");
            }
            hr = Augment.crop(hr, crop, rng);
        } else if (hr.height() < scale || hr.width() < scale) {
            throw new ImageException(job.source + ": is " + hr.sizeText() + ", smaller than the scale " + scale);
        }
        DegradedPair pair = degradation.apply(hr, rng);
        ImageFiles.writePng(job.hr, pair.hr(), 8);
        ImageFiles.writePng(job.lr, pair.lr(), 8);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", job.name);
        r.put("input", job.source.toString());
        r.put("lr", job.lr.toString());
        r.put("hr", job.hr.toString());
        r.put("lr_size", List.of(pair.lr().width(), pair.lr().height()));
        r.put("hr_size", List.of(pair.hr().width(), pair.hr().height()));
        r.put("steps", pair.steps());
        return r;
    }
}
