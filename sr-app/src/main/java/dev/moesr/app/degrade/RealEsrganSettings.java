package dev.moesr.app.degrade;

import java.util.List;
import java.util.Locale;

/**
 * The parameters of the Real-ESRGAN second-order degradation. {@link #stableSr()} gives the
 * milder values StableSR trains with (configs/stableSRNew/v2-finetune_text_T_512.yaml), which
 * the paper follows for its 4x blind setting.
 *
 * @param blur1 the first blur kernel
 * @param stage1 resize, noise and JPEG of the first order
 * @param secondBlurProbability how often the second blur happens
 * @param blur2 the second blur kernel
 * @param stage2 resize, noise and JPEG of the second order
 * @param finalSincProbability how often the final resize is followed by a sinc filter (else no filter)
 * @param noDegradationProbability how often a pair is left undegraded (LR = plain bicubic of the target)
 * @param sharpenTarget whether the HR target (and the input of the degradation) is USM-sharpened
 */
public record RealEsrganSettings(Blur blur1, Stage stage1, double secondBlurProbability, Blur blur2, Stage stage2,
                                 double finalSincProbability, double noDegradationProbability, boolean sharpenTarget) {

    /** The kernel families, in the order of {@link Blur#kernelProbabilities}. */
    public enum KernelType {
        ISO, ANISO, GENERALIZED_ISO, GENERALIZED_ANISO, PLATEAU_ISO, PLATEAU_ANISO;

        public String label() { return name().toLowerCase(Locale.ROOT); }
    }

    /** Odd kernel sides drawn uniformly: 7, 9, ..., 21 (Real-ESRGAN's fixed range). */
    public static final List<Integer> KERNEL_SIZES = List.of(7, 9, 11, 13, 15, 17, 19, 21);

    /** All kernels are zero-padded to this side, as Real-ESRGAN's dataset does. */
    public static final int PADDED_KERNEL_SIZE = 21;

    /**
     * One random blur kernel: with probability {@code sincProbability} a sinc kernel (cutoff
     * U[pi/3, pi] below size 13, else U[pi/5, pi]), otherwise one of the six families drawn with
     * {@code kernelProbabilities}; sigmas from {@code sigma}, rotation U[-pi, pi], beta half the
     * time from [lo, 1] and half the time from [1, hi] of its range.
     */
    public record Blur(List<Double> kernelProbabilities, double sincProbability, Range sigma, Range generalizedBeta, Range plateauBeta) {
        public Blur {
            kernelProbabilities = List.copyOf(kernelProbabilities);
            if (kernelProbabilities.size() != KernelType.values().length) {
                throw new IllegalArgumentException("one probability per kernel type is needed (" + KernelType.values().length + "), got "
                        + kernelProbabilities.size());
            }
            requireProbabilities(kernelProbabilities, "kernel probabilities");
            requireProbability(sincProbability, "sinc probability");
            if (!(sigma.lo() > 0)) throw new IllegalArgumentException("blur sigmas must be positive, got " + sigma);
            if (!(generalizedBeta.lo() > 0) || !(plateauBeta.lo() > 0)) throw new IllegalArgumentException("betas must be positive");
        }
    }

    /**
     * One order's resize, noise and JPEG.
     *
     * @param resizeProbabilities probabilities of up, down, keep
     * @param resizeRange scale range: up draws U[1, hi], down draws U[lo, 1]
     * @param gaussianNoiseProbability Gaussian noise with this probability, else Poisson noise
     * @param noiseSigma Gaussian sigma on the 0..255 scale
     * @param poissonScale Poisson noise scale
     * @param grayNoiseProbability probability that the noise is the same in all channels
     * @param jpegQuality JPEG quality range (libjpeg scale)
     */
    public record Stage(List<Double> resizeProbabilities, Range resizeRange, double gaussianNoiseProbability, Range noiseSigma,
                        Range poissonScale, double grayNoiseProbability, Range jpegQuality) {
        public Stage {
            resizeProbabilities = List.copyOf(resizeProbabilities);
            if (resizeProbabilities.size() != 3) throw new IllegalArgumentException("resize probabilities are up, down, keep: 3 values, got " + resizeProbabilities.size());
            requireProbabilities(resizeProbabilities, "resize probabilities");
            if (!(resizeRange.lo() > 0) || resizeRange.lo() > 1 || resizeRange.hi() < 1) {
                throw new IllegalArgumentException("the resize range must hold 1 and be positive, got " + resizeRange);
            }
            requireProbability(gaussianNoiseProbability, "Gaussian noise probability");
            requireProbability(grayNoiseProbability, "gray noise probability");
            if (noiseSigma.lo() < 0 || poissonScale.lo() < 0) throw new IllegalArgumentException("noise levels must be >= 0");
            if (jpegQuality.lo() < 1 || jpegQuality.hi() > 100) throw new IllegalArgumentException("JPEG qualities are in [1, 100], got " + jpegQuality);
        }
    }

    public RealEsrganSettings {
        requireProbability(secondBlurProbability, "second blur probability");
        requireProbability(finalSincProbability, "final sinc probability");
        requireProbability(noDegradationProbability, "no-degradation probability");
    }

    /** StableSR's settings (see reference.md, "Data"). */
    public static RealEsrganSettings stableSr() {
        List<Double> kernels = List.of(0.45, 0.25, 0.12, 0.03, 0.12, 0.03);
        Blur blur1 = new Blur(kernels, 0.1, Range.of(0.2, 1.5), Range.of(0.5, 2.0), Range.of(1, 1.5));
        Blur blur2 = new Blur(kernels, 0.1, Range.of(0.2, 1.0), Range.of(0.5, 2.0), Range.of(1, 1.5));
        Stage stage1 = new Stage(List.of(0.2, 0.7, 0.1), Range.of(0.3, 1.5), 0.5, Range.of(1, 15), Range.of(0.05, 2.0), 0.4, Range.of(60, 95));
        Stage stage2 = new Stage(List.of(0.3, 0.4, 0.3), Range.of(0.6, 1.2), 0.5, Range.of(1, 12), Range.of(0.05, 1.0), 0.4, Range.of(60, 100));
        return new RealEsrganSettings(blur1, stage1, 0.5, blur2, stage2, 0.8, 0.01, true);
    }

    private static void requireProbability(double p, String what) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException(what + " must be in [0, 1], got " + p);
    }

    private static void requireProbabilities(List<Double> ps, String what) {
        double sum = 0;
        for (double p : ps) {
            requireProbability(p, what);
            sum += p;
        }
        if (Math.abs(sum - 1) > 1e-9) throw new IllegalArgumentException(what + " must sum to 1, got " + ps + " (sum " + sum + ")");
    }
}
