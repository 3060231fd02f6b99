package dev.moesr.app.degrade;

import dev.moesr.app.degrade.RealEsrganSettings.Blur;
import dev.moesr.app.degrade.RealEsrganSettings.KernelType;
import dev.moesr.app.degrade.RealEsrganSettings.Stage;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.image.TorchResize;
import dev.moesr.app.image.TorchResize.Mode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * The Real-ESRGAN second-order degradation (Wang et al. 2021) as StableSR runs it:
 * <ol>
 * <li>the HR image is USM-sharpened; that is the target, and the input of what follows;</li>
 * <li>first order: blur with kernel 1, random resize (up / down / keep, area / bilinear /
 *     bicubic), Gaussian or Poisson noise (colour or gray), clip, JPEG;</li>
 * <li>second order: blur with kernel 2 (with its probability), random resize to around
 *     size / scale, noise, then 50/50 either [resize to size / scale + final sinc, clip, JPEG]
 *     or [clip, JPEG, resize to size / scale + final sinc];</li>
 * <li>clip to [0, 1].</li>
 * </ol>
 * A small share of pairs is left undegraded: then the LR is the plain MATLAB bicubic downscale
 * of the target. The JPEG steps use the real codec (ImageIO) at a random quality.
 */
public final class RealEsrganDegradation implements Degradation {
    private final int scale;
    private final RealEsrganSettings settings;

    public RealEsrganDegradation(int scale, RealEsrganSettings settings) {
        Degradation.requireScale(scale);
        this.scale = scale;
        this.settings = settings;
    }

    public RealEsrganDegradation(int scale) {
        this(scale, RealEsrganSettings.stableSr());
    }

    @Override public String name() { return "realesrgan"; }

    @Override public int scale() { return scale; }

    public RealEsrganSettings settings() { return settings; }

    /** A planar image in flight: its values and size. */
    private record Planes(float[] v, int h, int w) {}

    @Override public DegradedPair apply(Image hr, RandomGenerator rng) {
        Image input = hr.cropToMultipleOf(scale);
        int c = input.channels(), oriH = input.height(), oriW = input.width();
        List<String> steps = new ArrayList<>();

        float[] target = input.pixels();
        if (settings.sharpenTarget()) {
            target = UnsharpMask.sharpen(target, c, oriH, oriW);
            steps.add("usm-sharpen target");
        }
        Image targetImage = new Image(c, oriH, oriW, target, input.alpha());

        // The kernels are drawn first, as the Real-ESRGAN dataset does.
        Kernel kernel1 = drawKernel(settings.blur1(), rng, steps, "kernel1");
        Kernel kernel2 = drawKernel(settings.blur2(), rng, steps, "kernel2");
        Kernel sinc = drawFinalSinc(rng, steps);

        if (rng.nextDouble() < settings.noDegradationProbability()) {
            steps.clear();
            if (settings.sharpenTarget()) steps.add("usm-sharpen target");
            steps.add("no degradation: bicubic 1/" + scale + " (MATLAB imresize)");
            return new DegradedPair(BicubicDegradation.downscale(targetImage, scale), targetImage, steps);
        }

        // ---- first order ----
        Planes out = new Planes(Filters.filter2d(target, c, oriH, oriW, kernel1), oriH, oriW);
        steps.add("blur1 applied");
        out = randomResizeByScale(out, c, settings.stage1(), rng, steps);
        addNoise(out, c, settings.stage1(), rng, steps, "noise1");
        out = jpeg(out, c, settings.stage1().jpegQuality().draw(rng), steps, "jpeg1");

        // ---- second order ----
        if (rng.nextDouble() < settings.secondBlurProbability()) {
            out = new Planes(Filters.filter2d(out.v, c, out.h, out.w, kernel2), out.h, out.w);
            steps.add("blur2 applied");
        } else {
            steps.add("blur2 skipped");
        }
        out = randomResizeAround(out, c, oriH, oriW, settings.stage2(), rng, steps);
        addNoise(out, c, settings.stage2(), rng, steps, "noise2");

        int lrH = oriH / scale, lrW = oriW / scale;
        if (rng.nextDouble() < 0.5) {
            out = resizeBackAndSinc(out, c, lrH, lrW, sinc, rng, steps);
            out = jpeg(out, c, settings.stage2().jpegQuality().draw(rng), steps, "jpeg2");
        } else {
            out = jpeg(out, c, settings.stage2().jpegQuality().draw(rng), steps, "jpeg2");
            out = resizeBackAndSinc(out, c, lrH, lrW, sinc, rng, steps);
        }
        clip(out.v);
        Image lr = new Image(c, lrH, lrW, out.v, input.resizeAlpha(lrH, lrW));
        return new DegradedPair(lr, targetImage, steps);
    }

    /** A kernel of one blur setting, zero-padded to 21 like Real-ESRGAN's (the padding changes nothing in the filtering). */
    static Kernel drawKernel(Blur blur, RandomGenerator rng, List<String> steps, String label) {
        int size = RealEsrganSettings.KERNEL_SIZES.get(rng.nextInt(RealEsrganSettings.KERNEL_SIZES.size()));
        Kernel k;
        if (rng.nextDouble() < blur.sincProbability()) {
            double cutoff = (size < 13 ? Range.of(Math.PI / 3, Math.PI) : Range.of(Math.PI / 5, Math.PI)).draw(rng);
            k = BlurKernels.circularLowpass(size, cutoff);
            steps.add(String.format(Locale.ROOT, "%s sinc size=%d cutoff=%.4f", label, size, cutoff));
        } else {
            KernelType type = KernelType.values()[pick(blur.kernelProbabilities(), rng)];
            double sx = blur.sigma().draw(rng), sy = sx, theta = 0;
            boolean aniso = type == KernelType.ANISO || type == KernelType.GENERALIZED_ANISO || type == KernelType.PLATEAU_ANISO;
            if (aniso) {
                sy = blur.sigma().draw(rng);
                theta = Range.of(-Math.PI, Math.PI).draw(rng);
            }
            double beta = 1;
            switch (type) {
                case ISO, ANISO -> k = BlurKernels.gaussian(size, sx, sy, theta);
                case GENERALIZED_ISO, GENERALIZED_ANISO -> {
                    beta = drawBeta(blur.generalizedBeta(), rng);
                    k = BlurKernels.generalizedGaussian(size, sx, sy, theta, beta);
                }
                default -> {
                    beta = drawBeta(blur.plateauBeta(), rng);
                    k = BlurKernels.plateau(size, sx, sy, theta, beta);
                }
            }
            steps.add(String.format(Locale.ROOT, "%s %s size=%d sigma=(%.4f, %.4f) theta=%.4f beta=%.4f", label, type.label(), size, sx, sy, theta, beta));
        }
        return k.padTo(RealEsrganSettings.PADDED_KERNEL_SIZE);
    }

    /** Half the time from [lo, 1], half the time from [1, hi] (Real-ESRGAN assumes lo <= 1 <= hi). */
    private static double drawBeta(Range beta, RandomGenerator rng) {
        return rng.nextDouble() < 0.5 ? Range.of(Math.min(beta.lo(), 1), 1).draw(rng) : Range.of(1, Math.max(1, beta.hi())).draw(rng);
    }

    private Kernel drawFinalSinc(RandomGenerator rng, List<String> steps) {
        if (rng.nextDouble() < settings.finalSincProbability()) {
            int size = RealEsrganSettings.KERNEL_SIZES.get(rng.nextInt(RealEsrganSettings.KERNEL_SIZES.size()));
            double cutoff = Range.of(Math.PI / 3, Math.PI).draw(rng);
            steps.add(String.format(Locale.ROOT, "final sinc size=%d cutoff=%.4f", size, cutoff));
            return BlurKernels.circularLowpass(size, cutoff).padTo(RealEsrganSettings.PADDED_KERNEL_SIZE);
        }
        steps.add("final sinc none");
        return Kernel.identity();
    }

    /** An index drawn with the given probabilities (Python's random.choices with weights). */
    static int pick(List<Double> probabilities, RandomGenerator rng) {
        double total = 0;
        for (double p : probabilities) total += p;
        double u = rng.nextDouble() * total, cumulative = 0;
        for (int i = 0; i < probabilities.size(); i++) {
            cumulative += probabilities.get(i);
            if (u < cumulative) return i;
        }
        return probabilities.size() - 1;
    }

    private static Mode drawMode(RandomGenerator rng) {
        return Mode.values()[rng.nextInt(Mode.values().length)];
    }

    /** Up, down or keep, drawn with the stage's probabilities: the factor (1 for keep). */
    private static double drawResizeFactor(Stage stage, RandomGenerator rng, StringBuilder label) {
        int kind = pick(stage.resizeProbabilities(), rng);
        double f = switch (kind) {
            case 0 -> Range.of(1, stage.resizeRange().hi()).draw(rng);
            case 1 -> Range.of(stage.resizeRange().lo(), 1).draw(rng);
            default -> 1;
        };
        label.append(kind == 0 ? "up" : kind == 1 ? "down" : "keep");
        return f;
    }

    private static Planes randomResizeByScale(Planes in, int c, Stage stage, RandomGenerator rng, List<String> steps) {
        StringBuilder kind = new StringBuilder();
        double f = drawResizeFactor(stage, rng, kind);
        Mode mode = drawMode(rng);
        int h = TorchResize.scaledSize(in.h, f), w = TorchResize.scaledSize(in.w, f);
        steps.add(String.format(Locale.ROOT, "resize1 %s %.4f %s -> %dx%d", kind, f, mode.label(), w, h));
        return new Planes(TorchResize.byScale(in.v, c, in.h, in.w, f, mode), h, w);
    }

    /** The second resize goes to (size / scale) x factor, as int(ori / sf * factor) in Python. */
    private Planes randomResizeAround(Planes in, int c, int oriH, int oriW, Stage stage, RandomGenerator rng, List<String> steps) {
        StringBuilder kind = new StringBuilder();
        double f = drawResizeFactor(stage, rng, kind);
        Mode mode = drawMode(rng);
        int h = Math.max(1, (int) ((double) oriH / scale * f)), w = Math.max(1, (int) ((double) oriW / scale * f));
        steps.add(String.format(Locale.ROOT, "resize2 %s %.4f %s -> %dx%d", kind, f, mode.label(), w, h));
        return new Planes(TorchResize.toSize(in.v, c, in.h, in.w, h, w, mode), h, w);
    }

    private static Planes resizeBackAndSinc(Planes in, int c, int lrH, int lrW, Kernel sinc, RandomGenerator rng, List<String> steps) {
        Mode mode = drawMode(rng);
        float[] v = TorchResize.toSize(in.v, c, in.h, in.w, lrH, lrW, mode);
        steps.add(String.format(Locale.ROOT, "resize back %s -> %dx%d, final sinc", mode.label(), lrW, lrH));
        return new Planes(Filters.filter2d(v, c, lrH, lrW, sinc), lrH, lrW);
    }

    private static void addNoise(Planes p, int c, Stage stage, RandomGenerator rng, List<String> steps, String label) {
        if (rng.nextDouble() < stage.gaussianNoiseProbability()) {
            double sigma = stage.noiseSigma().draw(rng);
            boolean gray = rng.nextDouble() < stage.grayNoiseProbability();
            Noise.addGaussian(p.v, c, p.h, p.w, sigma, gray, rng);
            steps.add(String.format(Locale.ROOT, "%s gaussian sigma=%.4f %s", label, sigma, gray ? "gray" : "colour"));
        } else {
            double s = stage.poissonScale().draw(rng);
            boolean gray = rng.nextDouble() < stage.grayNoiseProbability();
            Noise.addPoisson(p.v, c, p.h, p.w, s, gray, rng);
            steps.add(String.format(Locale.ROOT, "%s poisson scale=%.4f %s", label, s, gray ? "gray" : "colour"));
        }
    }

    /** Clip to [0, 1], then a real JPEG encode and decode at {@code quality}. */
    private static Planes jpeg(Planes p, int c, double quality, List<String> steps, String label) {
        clip(p.v);
        steps.add(String.format(Locale.ROOT, "%s quality=%.2f", label, quality));
        return new Planes(jpegRoundTrip(p.v, c, p.h, p.w, quality), p.h, p.w);
    }

    /** Encodes a planar image as JPEG at {@code quality} (1..100) with ImageIO and decodes it again. */
    public static float[] jpegRoundTrip(float[] image, int channels, int h, int w, double quality) {
        try {
            byte[] bytes = ImageFiles.encodeJpeg(new Image(channels, h, w, image), quality);
            Image back = ImageFiles.decode(bytes, "JPEG round trip", Long.MAX_VALUE);
            if (back.channels() != channels || back.height() != h || back.width() != w) {
                throw new IllegalStateException("the JPEG round trip changed the image from " + channels + "x" + w + "x" + h + " to " + back);
            }
            return back.pixels();
        } catch (ImageException e) {
            throw new UncheckedIOException(e);
        } catch (IOException e) {
            throw new UncheckedIOException("JPEG compression failed: " + e.getMessage(), e);
        }
    }

    private static void clip(float[] v) {
        for (int i = 0; i < v.length; i++) v[i] = Math.min(1f, Math.max(0f, v[i]));
    }
}
