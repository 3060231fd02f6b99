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
                "PSNR, SSIM and NIQE of super-resolved images against HR references, per image and averaged.",
                "Images are paired by file name without extension; every SR image needs an HR image of the same size.",
                "PSNR and SSIM on the Y channel of BT.601 YCbCr (gray images: the gray value), in 0..255, float64,",
                "SSIM with an 11x11 Gaussian window (sigma 1.5) over the valid region (BasicSR's definitions).",
                "NIQE of the SR image's Y (rounded), with the LIVE/BasicSR model; it needs at least two 96x96 blocks.",
                "LPIPS is not computed yet: it needs converted pretrained network weights (a later step).",
                "Alpha channels are ignored.",
                "Exit codes: 0 done, 1 failed (bad input, unmatched or mismatched images), 2 bad command line."})
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--sr", required = true, paramLabel = "DIR", description = "Folder of super-resolved (or any test) images.")
    Path sr;

    @Option(names = "--hr", required = true, paramLabel = "DIR", description = "Folder of reference HR images.")
    Path hr;

    @Option(names = "--crop", defaultValue = "0", paramLabel = "N",
            description = "Pixels removed from every border before measuring; the papers use the scale (default ${DEFAULT-VALUE}).")
    int crop;

    @Option(names = "--no-niqe", description = "Skip NIQE.")
    boolean noNiqe;

    @Option(names = "--max-pixels", defaultValue = "" + ImageFiles.DEFAULT_MAX_PIXELS, paramLabel = "N",
            description = "Refuse images with more pixels than this (default ${DEFAULT-VALUE}).")
    long maxPixels;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    static final String LPIPS_NOTE = "LPIPS not computed: it needs converted pretrained network weights (a later step)";

    /** The scores of one pair; niqe is NaN with a reason when it could not be computed. */
    record Scores(String name, double psnr, double ssim, double niqe, String niqeNote) {}

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try {
            return run(out, err);
        } catch (Exception | OutOfMemoryError e) {
            return Failures.report(err, "eval", e, common.verbose);
        }
    }

    private int run(PrintWriter out, PrintWriter err) throws IOException {
        if (crop < 0) throw new IllegalArgumentException("--crop must be >= 0, got " + crop);
        if (maxPixels < 1) throw new IllegalArgumentException("--max-pixels must be positive, got " + maxPixels);
        Pairing pairing = Pairing.of(sr, hr).requireAllFirstMatched(sr, hr);
        Niqe niqe = noNiqe ? null : Niqe.standard();

        Progress progress = new Progress(err, !common.quiet && Progress.interactive(), pairing.pairs().size());
        List<Scores> scores = new ArrayList<>();
        int done = 0;
        for (ImagePair p : pairing.pairs()) {
            progress.step(done++, p.name());
            scores.add(measure(p, niqe));
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
        notes.add(LPIPS_NOTE);

        double meanPsnr = mean(scores.stream().mapToDouble(Scores::psnr).toArray());
        double meanSsim = mean(scores.stream().mapToDouble(Scores::ssim).toArray());
        double meanNiqe = noNiqe ? Double.NaN : mean(scores.stream().mapToDouble(Scores::niqe).filter(v -> !Double.isNaN(v)).toArray());
        if (common.json) out.println(Json.write(json(scores, meanPsnr, meanSsim, meanNiqe, notes)));
        else printTable(out, scores, meanPsnr, meanSsim, meanNiqe, notes);
        out.flush();
        return 0;
    }

    private Scores measure(ImagePair p, Niqe niqe) throws ImageException {
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
        return new Scores(p.name(), psnr, ssim, n, note);
    }

    private static double mean(double[] v) {
        if (v.length == 0) return Double.NaN;
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    private Map<String, Object> json(List<Scores> scores, double psnr, double ssim, double niqe, List<String> notes) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("command", "eval");
        r.put("sr", sr.toString());
        r.put("hr", hr.toString());
        r.put("crop", crop);
        r.put("count", scores.size());
        List<Object> images = new ArrayList<>();
        for (Scores s : scores) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.name);
            m.put("psnr", s.psnr);
            m.put("ssim", s.ssim);
            m.put("niqe", s.niqe);
            m.put("lpips", null);
            images.add(m);
        }
        r.put("images", images);
        Map<String, Object> mean = new LinkedHashMap<>();
        mean.put("psnr", psnr);
        mean.put("ssim", ssim);
        mean.put("niqe", niqe);
        mean.put("lpips", null);
        r.put("mean", mean);
        r.put("notes", notes);
        return r;
    }

    private void printTable(PrintWriter out, List<Scores> scores, double psnr, double ssim, double niqe, List<String> notes) {
        int nameWidth = Math.max(4, scores.stream().mapToInt(s -> s.name.length()).max().orElse(4));
        String format = "%-" + nameWidth + "s  %9s  %7s  %7s%n";
        out.printf(Locale.ROOT, format, "name", "PSNR (dB)", "SSIM", "NIQE");
        for (Scores s : scores) out.printf(Locale.ROOT, format, s.name, fmt(s.psnr, 3), fmt(s.ssim, 4), fmt(s.niqe, 3));
        out.printf(Locale.ROOT, format, "mean", fmt(psnr, 3), fmt(ssim, 4), fmt(niqe, 3));
        out.printf(Locale.ROOT, "%d pair(s); Y channel (BT.601), %d-pixel border cropped%n", scores.size(), crop);
        for (String n : notes) out.println(n);
    }

    private static String fmt(double v, int decimals) {
        if (Double.isNaN(v)) return "n/a";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
