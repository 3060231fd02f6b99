package dev.moesr.app;

import dev.moesr.app.cli.CommonOptions;
import dev.moesr.app.cli.Failures;
import dev.moesr.app.cli.Json;
import dev.moesr.app.data.ImageFolder;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.image.MatlabResize;
import dev.moesr.app.infer.DefaultModel;
import dev.moesr.app.infer.SuperResolver;
import dev.moesr.app.metrics.FullReference;
import dev.moesr.app.metrics.Niqe;
import dev.moesr.app.metrics.Plane;
import dev.moesr.tensor.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code demo}: the shipped model on photographs it never saw in training. Each HR photo is
 * downscaled 4x (MATLAB bicubic), then upscaled back by bicubic and by the model; writes a
 * side-by-side picture per photo (LR nearest-upscaled | bicubic | ours | HR) and prints PSNR-Y,
 * SSIM and NIQE of bicubic and of ours against the HR photo.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Super-resolve photographs 4x with the shipped model (or --model) beside bicubic, and score both.",
                "Each HR photo (default: four bundled photographs the model never saw in training) is downscaled 4x with MATLAB bicubic;",
                "the LR image is upscaled by bicubic and by the model. Writes OUT/<name>-side-by-side.png (LR nearest | bicubic | ours | HR),",
                "OUT/<name>-sr.png and OUT/scores.md, and prints PSNR-Y, SSIM (border of 4 cropped, as eval --crop 4) and NIQE",
                "(n/a for images too small for two 96x96 blocks).",
                "Example: java -jar sr-app.jar demo --output demo-out",
                "Exit codes: 0 done, 1 failed (bad input, model, I/O), 2 bad command line."})
public final class DemoCommand implements Callable<Integer> {
    static final String[] BUNDLED = {"astronaut", "chelsea", "coffee", "rocket"};

    @Option(names = "--input", paramLabel = "DIR", description = "A folder of HR photographs (default: the four bundled ones).")
    Path input;

    @Option(names = "--output", defaultValue = "demo-out", paramLabel = "DIR", description = "Where the pictures and scores go (default ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--model", paramLabel = "FILE", description = "A model file (default: the shipped moesr-x4-small).")
    Path model;

    @Option(names = "--steps", paramLabel = "N", description = "Sampling steps (default: the model's).")
    Integer steps;

    @Option(names = "--color-fix", negatable = true, description = "Apply (or with --no-color-fix, do not) the AdaIN colour fix (default: the model's).")
    Boolean colorFix;

    @Option(names = "--seed", defaultValue = "7", paramLabel = "S", description = "Seed of the sampling noise (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "D", description = "auto, cpu, cuda or cuda:N (default ${DEFAULT-VALUE}).")
    String device;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    /** Scores of one method on one photo. */
    record Scores(double psnr, double ssim, double niqe) {}

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try {
            return run(out, err);
        } catch (Exception | OutOfMemoryError e) {
            return Failures.report(err, "demo", e, common.verbose);
        }
    }

    private int run(PrintWriter out, PrintWriter err) throws IOException {
        Map<String, Image> photos = photos();
        Path modelFile = model != null ? model : DefaultModel.require();
        Files.createDirectories(output);
        InferCommand.checkWritable(output);
        Niqe niqe = Niqe.standard();
        List<Map<String, Object>> rows = new ArrayList<>();
        StringBuilder table = new StringBuilder();
        try (SuperResolver sr = SuperResolver.open(modelFile, Device.parse(device))) {
            int scale = sr.scale();
            SuperResolver.Options o = sr.effective(new SuperResolver.Options().steps(steps).seed(seed).colorFix(colorFix));
            if (!common.quiet) {
                err.println("demo: " + modelFile + " (" + sr.config().name() + "), " + o.describe() + ", " + photos.size() + " photographs");
                err.flush();
            }
            table.append("| photo | bicubic PSNR-Y | ours PSNR-Y | bicubic SSIM | ours SSIM | bicubic NIQE | ours NIQE | seconds |\n");
            table.append("|---|---|---|---|---|---|---|---|\n");
            double[] sums = new double[6];
            int niqeCount = 0;
            for (var e : photos.entrySet()) {
                String name = e.getKey();
                Image hr = e.getValue().toRgb().withoutAlpha().cropToMultipleOf(scale);
                int h = hr.height() / scale, w = hr.width() / scale;
                Image lr = new Image(3, h, w, MatlabResize.resizeTo(hr.pixels(), 3, hr.height(), hr.width(), h, w)).clamped();
                Image bicubic = new Image(3, hr.height(), hr.width(), MatlabResize.resizeTo(lr.pixels(), 3, h, w, hr.height(), hr.width())).clamped();
                long start = System.nanoTime();
                Image ours = sr.upscale(lr, o);
                double seconds = (System.nanoTime() - start) / 1e9;
                Scores b = scores(bicubic, hr, scale, niqe), s = scores(ours, hr, scale, niqe);
                ImageFiles.write(output.resolve(name + "-sr.png"), ours);
                ImageFiles.write(output.resolve(name + "-side-by-side.png"), sideBySide(List.of(nearest(lr, scale), bicubic, ours, hr)));
                table.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.4f | %.4f | %s | %s | %.1f |%n",
                        name, b.psnr, s.psnr, b.ssim, s.ssim, niqeText(b.niqe), niqeText(s.niqe), seconds));
                double[] v = {b.psnr, s.psnr, b.ssim, s.ssim, b.niqe, s.niqe};
                for (int i = 0; i < 6; i++) sums[i] += v[i];
                if (!Double.isNaN(b.niqe)) niqeCount++;
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("photo", name);
                row.put("bicubic", scoreMap(b));
                row.put("ours", scoreMap(s));
                row.put("seconds", seconds);
                rows.add(row);
                if (!common.quiet) {
                    err.printf(Locale.ROOT, "demo: %s done in %.1f s%n", name, seconds);
                    err.flush();
                }
            }
            int n = photos.size();
            table.append(String.format(Locale.ROOT, "| **mean** | %.2f | %.2f | %.4f | %.4f | %s | %s | |%n",
                    sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n, niqeText(niqeCount == n ? sums[4] / n : Double.NaN),
                    niqeText(niqeCount == n ? sums[5] / n : Double.NaN)));
            String header = "Model " + modelFile.getFileName() + " (" + sr.config().name() + "), " + o.describe() + "; LR = MATLAB bicubic 1/" + scale
                    + "; PSNR-Y and SSIM with a border of " + scale + " cropped; NIQE on Y (lower is better).\n\n";
            Files.writeString(output.resolve("scores.md"), header + table);
        }
        if (common.json) {
            out.println(Json.write(Map.of("photos", rows, "output", output.toString())));
        } else {
            out.print(table);
            out.println("Side-by-side pictures (LR nearest | bicubic | ours | HR) are in " + output);
        }
        out.flush();
        return 0;
    }

    /** The photos by name: every image of --input, or the bundled ones (resources of the jar). */
    private Map<String, Image> photos() throws IOException {
        Map<String, Image> photos = new LinkedHashMap<>();
        if (input != null) {
            if (!Files.isDirectory(input)) throw new IOException("--input " + input + " is not a folder of photographs");
            for (Path p : ImageFolder.list(input)) photos.put(ImageFiles.stem(p), ImageFiles.read(p));
            if (photos.isEmpty()) throw new IOException("--input " + input + " holds no images (.png, .jpg, .bmp)");
            return photos;
        }
        for (String name : BUNDLED) {
            try (InputStream in = DemoCommand.class.getResourceAsStream("/demo/" + name + ".png")) {
                if (in == null) throw new IOException("the bundled photo demo/" + name + ".png is missing from the jar; rebuild it, or give --input DIR");
                photos.put(name, ImageFiles.decode(in.readAllBytes(), name + ".png", ImageFiles.DEFAULT_MAX_PIXELS));
            }
        }
        return photos;
    }

    static Scores scores(Image image, Image hr, int crop, Niqe niqe) {
        Plane y = Plane.luma(image).cropBorder(crop), yHr = Plane.luma(hr).cropBorder(crop);
        double n;
        try {
            n = niqe.score(y.rounded());
        } catch (IllegalArgumentException e) {
            n = Double.NaN;   // too small for NIQE's 96x96 blocks: shown as n/a
        }
        return new Scores(FullReference.psnr(y, yHr), FullReference.ssim(y, yHr), n);
    }

    private static String niqeText(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static Map<String, Object> scoreMap(Scores s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("psnr_y", s.psnr);
        m.put("ssim", s.ssim);
        if (!Double.isNaN(s.niqe)) m.put("niqe", s.niqe);   // absent when the image is too small for NIQE
        return m;
    }

    /** Each pixel repeated scale x scale times. */
    static Image nearest(Image lr, int scale) {
        int h = lr.height() * scale, w = lr.width() * scale, c = lr.channels();
        float[] p = new float[c * h * w];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) p[(ch * h + y) * w + x] = lr.get(ch, y / scale, x / scale);
            }
        }
        return new Image(c, h, w, p);
    }

    /** The images (same height, RGB) in a row, 8 white pixels apart. */
    static Image sideBySide(List<Image> images) {
        int gap = 8, h = images.get(0).height(), w = -gap;
        for (Image i : images) {
            if (i.height() != h || i.channels() != 3) throw new IllegalArgumentException("side by side needs RGB images of one height");
            w += i.width() + gap;
        }
        float[] p = new float[3 * h * w];
        java.util.Arrays.fill(p, 1f);
        int x0 = 0;
        for (Image i : images) {
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < h; y++) System.arraycopy(i.pixels(), (c * h + y) * i.width(), p, (c * h + y) * w + x0, i.width());
            }
            x0 += i.width() + gap;
        }
        return new Image(3, h, w, p);
    }
}
