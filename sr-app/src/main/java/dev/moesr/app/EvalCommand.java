package dev.moesr.app;

import dev.moesr.app.cli.CommonOptions;
import dev.moesr.app.cli.Failures;
import dev.moesr.app.cli.Json;
import dev.moesr.app.cli.Progress;
import dev.moesr.app.data.ImagePair;
import dev.moesr.app.data.Pairing;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.metrics.FullReference;
import dev.moesr.app.metrics.Niqe;
import dev.moesr.app.metrics.Plane;
import dev.moesr.diffusion.lpips.Lpips;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code eval}: quality of super-resolved images against their references. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "PSNR, SSIM, NIQE and (with --lpips-weights) LPIPS of super-resolved images against HR references,",
                "per image and averaged.",
                "Images are paired by file name without extension; every SR image needs an HR image of the same size.",
                "PSNR and SSIM on the Y channel of BT.601 YCbCr (gray images: the gray value), in 0..255, float64,",
                "SSIM with an 11x11 Gaussian window (sigma 1.5) over the valid region (BasicSR's definitions).",
                "NIQE of the SR image's Y (rounded), with the LIVE/BasicSR model; it needs at least two 96x96 blocks.",
                "LPIPS-VGG (lpips package) on RGB in [-1, 1] (gray repeated to RGB), same border crop, needs at least 16x16;",
                "only with --lpips-weights (converted weights: no weights ship with moesr).",
                "Border crop: --crop N, else --scale N, else the scale HR width / LR width of the images in --lr,",
                "else none (the output says so). BasicSR and the papers crop the scale.",
                "Alpha channels are ignored.",
                "Exit codes: 0 done, 1 failed (bad input, unmatched or mismatched images), 2 bad command line."})
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--sr", required = true, paramLabel = "DIR", description = "Folder of super-resolved (or any test) images.")
    Path sr;

    @Option(names = "--hr", required = true, paramLabel = "DIR", description = "Folder of reference HR images.")
    Path hr;

    @Option(names = "--crop", paramLabel = "N",
            description = "Pixels removed from every border before measuring (default: the scale, see --scale and --lr; else 0).")
    Integer cropOption;

    @Option(names = "--scale", paramLabel = "N", description = "The super-resolution factor; the default --crop.")
    Integer scaleOption;

    @Option(names = "--lr", paramLabel = "DIR",
            description = "Folder of the LR inputs, only to infer the scale (HR width / LR width) when neither --crop nor --scale is given.")
    Path lr;

    @Option(names = "--lpips-weights", paramLabel = "FILE",
            description = "LPIPS-VGG weights (safetensors; the lpips package's or torchvision's names); computes LPIPS.")
    Path lpipsWeights;

    @Option(names = "--no-niqe", description = "Skip NIQE.")
    boolean noNiqe;

    @Option(names = "--max-pixels", defaultValue = "" + ImageFiles.DEFAULT_MAX_PIXELS, paramLabel = "N",
            description = "Refuse images with more pixels than this (default ${DEFAULT-VALUE}).")
    long maxPixels;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    static final String LPIPS_NOTE = "LPIPS not computed: give --lpips-weights FILE (converted LPIPS-VGG weights)";
    static final String NO_CROP_NOTE = "no border was cropped: give --crop N, --scale N or --lr DIR to crop the scale as BasicSR does";

    /** The border actually cropped, and the scale when known (null otherwise). */
    private int crop;
    private Integer scale;

    /** The scores of one pair; niqe is NaN with a reason when it could not be computed; lpips is NaN when not computed. */
    record Scores(String name, double psnr, double ssim, double niqe, String niqeNote, double lpips) {}

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try {
            return run(out, err);
        } catch (Exception | OutOfMemoryError e) {
            return Failures.report(err, "eval", e, common.verbose);
        }
    }

    private int run(PrintWriter out, PrintWriter err) throws IOException {
        if (cropOption != null && cropOption < 0) throw new IllegalArgumentException("--crop must be >= 0, got " + cropOption);
        if (scaleOption != null && scaleOption < 1) throw new IllegalArgumentException("--scale must be >= 1, got " + scaleOption);
        if (maxPixels < 1) throw new IllegalArgumentException("--max-pixels must be positive, got " + maxPixels);
        Pairing pairing = Pairing.of(sr, hr).requireAllFirstMatched(sr, hr);
        scale = scaleOption != null ? scaleOption : cropOption == null && lr != null ? inferScale(pairing) : null;
        crop = cropOption != null ? cropOption : scale != null ? scale : 0;
        Niqe niqe = noNiqe ? null : Niqe.standard();
        Lpips lpips = lpipsWeights == null ? null : loadLpips(lpipsWeights);

        Progress progress = new Progress(err, !common.quiet && Progress.interactive(), pairing.pairs().size());
        List<Scores> scores = new ArrayList<>();
        int done = 0;
        for (ImagePair p : pairing.pairs()) {
            progress.step(done++, p.name());
            scores.add(measure(p, niqe, lpips));
        }
        progress.finish();

        List<String> notes = new ArrayList<>();
        long noNiqeCount = scores.stream().filter(s -> Double.isNaN(s.niqe) && s.niqeNote != null).count();
        if (noNiqeCount > 0) {
            String reason = scores.stream().filter(s -> s.niqeNote != null).findFirst().map(Scores::niqeNote).orElse("");
            notes.add("NIQE not available for " + noNiqeCount + " image(s): " + reason);
        }
        if (scores.stream().anyMatch(s -> Double.isInfinite(s.psnr))) {
            notes.add("PSNR is infinite for identical images (written as null in JSON)");
        }
        if (!pairing.onlyReference().isEmpty()) {
            notes.add(pairing.onlyReference().size() + " HR image(s) without an SR partner were skipped");
        }
        if (noNiqe) notes.add("NIQE skipped (--no-niqe)");
        if (lpips == null) notes.add(LPIPS_NOTE);
        if (cropOption == null && scale == null) notes.add(NO_CROP_NOTE);

        double meanPsnr = mean(scores.stream().mapToDouble(Scores::psnr).toArray());
        double meanSsim = mean(scores.stream().mapToDouble(Scores::ssim).toArray());
        double meanNiqe = noNiqe ? Double.NaN : mean(scores.stream().mapToDouble(Scores::niqe).filter(v -> !Double.isNaN(v)).toArray());
        double meanLpips = lpips == null ? Double.NaN : mean(scores.stream().mapToDouble(Scores::lpips).toArray());
        if (common.json) out.println(Json.write(json(scores, meanPsnr, meanSsim, meanNiqe, meanLpips, notes)));
        else printTable(out, scores, meanPsnr, meanSsim, meanNiqe, meanLpips, notes);
        out.flush();
        return 0;
    }

    /**
     * The scale HR width / LR width, from every SR image's LR partner in --lr (same name); all must
     * agree and divide exactly, as they do when the SR images were made from those LR images.
     */
    private Integer inferScale(Pairing pairing) throws ImageException {
        Pairing lrPairs = Pairing.of(lr, hr);
        java.util.Set<String> evaluated = new java.util.HashSet<>();
        for (ImagePair p : pairing.pairs()) evaluated.add(p.name());
        Integer found = null;
        String foundFrom = null;
        for (ImagePair p : lrPairs.pairs()) {
            if (!evaluated.contains(p.name())) continue;
            Image low = ImageFiles.read(p.first(), maxPixels), high = ImageFiles.read(p.reference(), maxPixels);
            int s = high.width() / low.width();
            if (s < 1 || high.width() != s * low.width() || high.height() != s * low.height()) {
                throw new IllegalArgumentException(p.name() + ": the HR image " + high.sizeText() + " is not an integer multiple of the LR image "
                        + low.sizeText() + " in --lr; give --scale N or --crop N instead");
            }
            if (found != null && found != s) {
                throw new IllegalArgumentException("--lr images have different scales: " + foundFrom + " is x" + found + ", " + p.name()
                        + " is x" + s + "; give --scale N or --crop N");
            }
            found = s;
            foundFrom = p.name();
        }
        if (found == null) {
            throw new IllegalArgumentException("no image in --lr " + lr + " has the name of an evaluated image; give --scale N or --crop N instead");
        }
        return found;
    }

    /** LPIPS with the widths the file's linear heads have (so narrow test networks load too), then its weights. */
    static Lpips loadLpips(Path file) throws IOException {
        List<Integer> widths = new ArrayList<>();
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            for (int l = 0; l < 5; l++) {
                SafeTensorsFile.Entry head = f.entries().get("lin" + l + ".model.1.weight");
                if (head == null) head = f.entries().get("lins." + l + ".model.1.weight");
                if (head == null || head.shape().length != 4 || head.shape()[0] != 1) {
                    throw new IllegalArgumentException("--lpips-weights " + file + " is not LPIPS-VGG weights: no linear head lin" + l
                            + ".model.1.weight of shape [1, C, 1, 1]" + (head == null ? "" : " (got " + java.util.Arrays.toString(head.shape()) + ")"));
                }
                widths.add(head.shape()[1]);
            }
        }
        Lpips lpips = new Lpips(widths, new Philox(0));
        try {
            lpips.loadWeights(file);
        } catch (IllegalArgumentException e) {   // shape problems do not name the file
            throw new IllegalArgumentException("--lpips-weights " + file + ": " + e.getMessage(), e);
        }
        return lpips;
    }

    /** An image as the lpips package takes it: [1, 3, H, W], RGB (gray repeated), values 2v - 1 in [-1, 1]. */
    static Tensor lpipsInput(Image image) {
        Image rgb = image.toRgb();
        float[] px = rgb.pixels(), scaled = new float[px.length];
        for (int i = 0; i < px.length; i++) scaled[i] = 2f * px[i] - 1f;
        return Tensor.of(scaled, 1, 3, rgb.height(), rgb.width());
    }

    private static double lpipsDistance(Lpips lpips, Image a, Image b) {
        try (Scope s = Scope.open(); GradMode g = GradMode.off()) {
            return lpips.forward(lpipsInput(a), lpipsInput(b)).item();
        }
    }

    private Scores measure(ImagePair p, Niqe niqe, Lpips lpips) throws ImageException {
        Image a = ImageFiles.read(p.first(), maxPixels), b = ImageFiles.read(p.reference(), maxPixels);
        if (a.height() != b.height() || a.width() != b.width()) {
            throw new ImageException(p.name() + ": the SR image is " + a.sizeText() + " but the HR image is " + b.sizeText()
                    + "; they must have the same size (crop the HR image to a multiple of the scale)");
        }
        if (a.channels() != b.channels()) {
            // one gray, one colour: compare both as colour
            a = a.toRgb();
            b = b.toRgb();
        }
        Plane ya, yb;
        double psnr, ssim;
        try {
            ya = Plane.luma(a).cropBorder(crop);
            yb = Plane.luma(b).cropBorder(crop);
            psnr = FullReference.psnr(ya, yb);
            ssim = FullReference.ssim(ya, yb);
        } catch (IllegalArgumentException e) {
            throw new ImageException(p.name() + ": " + e.getMessage());
        }
        double n = Double.NaN;
        String note = null;
        if (niqe != null) {
            try {
                n = niqe.score(ya.rounded());
            } catch (IllegalArgumentException e) {
                note = e.getMessage();
            }
        }
        double distance = Double.NaN;
        if (lpips != null) {
            try {
                Image ca = a.crop(crop, crop, a.height() - 2 * crop, a.width() - 2 * crop);
                Image cb = b.crop(crop, crop, b.height() - 2 * crop, b.width() - 2 * crop);
                distance = lpipsDistance(lpips, ca, cb);
            } catch (IllegalArgumentException e) {
                throw new ImageException(p.name() + ": " + e.getMessage());
            }
        }
        return new Scores(p.name(), psnr, ssim, n, note, distance);
    }

    private static double mean(double[] v) {
        if (v.length == 0) return Double.NaN;
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    private Map<String, Object> json(List<Scores> scores, double psnr, double ssim, double niqe, double lpips, List<String> notes) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("command", "eval");
        r.put("sr", sr.toString());
        r.put("hr", hr.toString());
        r.put("scale", scale);
        r.put("crop", crop);
        r.put("count", scores.size());
        List<Object> images = new ArrayList<>();
        for (Scores s : scores) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.name);
            m.put("psnr", s.psnr);
            m.put("ssim", s.ssim);
            m.put("niqe", s.niqe);
            m.put("lpips", Double.isNaN(s.lpips) ? null : s.lpips);
            images.add(m);
        }
        r.put("images", images);
        Map<String, Object> mean = new LinkedHashMap<>();
        mean.put("psnr", psnr);
        mean.put("ssim", ssim);
        mean.put("niqe", niqe);
        mean.put("lpips", Double.isNaN(lpips) ? null : lpips);
        r.put("mean", mean);
        r.put("notes", notes);
        return r;
    }

    private void printTable(PrintWriter out, List<Scores> scores, double psnr, double ssim, double niqe, double lpips, List<String> notes) {
        int nameWidth = Math.max(4, scores.stream().mapToInt(s -> s.name.length()).max().orElse(4));
        String format = "%-" + nameWidth + "s  %9s  %7s  %7s  %7s%n";
        out.printf(Locale.ROOT, format, "name", "PSNR (dB)", "SSIM", "NIQE", "LPIPS");
        for (Scores s : scores) out.printf(Locale.ROOT, format, s.name, fmt(s.psnr, 3), fmt(s.ssim, 4), fmt(s.niqe, 3), fmt(s.lpips, 4));
        out.printf(Locale.ROOT, format, "mean", fmt(psnr, 3), fmt(ssim, 4), fmt(niqe, 3), fmt(lpips, 4));
        out.printf(Locale.ROOT, "%d pair(s); Y channel (BT.601), %d-pixel border cropped%s%n", scores.size(), crop,
                cropOption == null && scale != null ? " (the scale x" + scale + ")" : "");
        for (String n : notes) out.println(n);
    }

    private static String fmt(double v, int decimals) {
        if (Double.isNaN(v)) return "n/a";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
