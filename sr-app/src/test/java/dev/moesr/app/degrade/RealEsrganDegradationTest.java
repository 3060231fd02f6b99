package dev.moesr.app.degrade;

import dev.moesr.app.degrade.RealEsrganSettings.Blur;
import dev.moesr.app.degrade.RealEsrganSettings.KernelType;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.MatlabResize;
import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class RealEsrganDegradationTest {

    /** A smooth image with an edge and some texture, values in [0, 1]. */
    static Image testImage(int channels, int h, int w, boolean alpha, long seed) {
        Gen c = new Gen(seed);
        float[] px = new float[channels * h * w];
        for (int ch = 0; ch < channels; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double v = 0.3 + 0.3 * Math.sin(x * 0.3 + ch) * Math.cos(y * 0.2) + (x > w / 2 ? 0.2 : 0) + c.nextDouble(-0.05, 0.05);
                    px[(ch * h + y) * w + x] = (float) Math.min(1, Math.max(0, v));
                }
            }
        }
        float[] a = null;
        if (alpha) {
            a = new float[h * w];
            for (int i = 0; i < a.length; i++) a[i] = (i % w) < w / 3 ? 0f : 1f;
        }
        return new Image(channels, h, w, px, a);
    }

    private final RealEsrganDegradation x4 = new RealEsrganDegradation(4);

    @Test
    void theSameSeedGivesTheSamePairAndAnotherSeedAnotherOne() {
        Image hr = testImage(3, 48, 40, false, 1);
        DegradedPair a = x4.apply(hr, new SplittableRandom(42)), b = x4.apply(hr, new SplittableRandom(42));
        assertTrue(a.lr().sameAs(b.lr()));
        assertTrue(a.hr().sameAs(b.hr()));
        assertEquals(a.steps(), b.steps());
        DegradedPair c = x4.apply(hr, new SplittableRandom(43));
        assertFalse(a.lr().sameAs(c.lr()), "seeds 42 and 43 gave the same LR");
    }

    @Test
    void sizesValueRangesAndChannels() {
        for (int channels : new int[] {1, 3}) {
            Image hr = testImage(channels, 53, 70, false, 2);
            for (long seed = 0; seed < 6; seed++) {
                DegradedPair p = x4.apply(hr, new SplittableRandom(seed));
                assertEquals(52, p.hr().height(), "HR cropped to a multiple of 4");
                assertEquals(68, p.hr().width());
                assertEquals(13, p.lr().height());
                assertEquals(17, p.lr().width());
                assertEquals(channels, p.lr().channels());
                assertEquals(channels, p.hr().channels());
                for (float v : p.lr().pixels()) assertTrue(v >= 0 && v <= 1, "LR value " + v + " with steps " + p.steps());
                for (float v : p.hr().pixels()) assertTrue(v >= 0 && v <= 1, "HR value " + v);
                assertFalse(p.steps().isEmpty());
            }
        }
    }

    @Test
    void theTargetIsTheUsmSharpenedInputAndAlphaTravelsAlongside() {
        Image hr = testImage(3, 40, 44, true, 3);
        DegradedPair p = x4.apply(hr, new SplittableRandom(5));
        assertArrayEquals(UnsharpMask.sharpen(hr.pixels(), 3, 40, 44), p.hr().pixels());
        assertArrayEquals(hr.alpha(), p.hr().alpha(), "the target keeps its alpha");
        assertNotNull(p.lr().alpha());
        assertArrayEquals(hr.resizeAlpha(10, 11), p.lr().alpha(), "LR alpha: MATLAB bicubic of the HR alpha");
    }

    @Test
    void undegradedPairsAreThePlainBicubicDownscaleOfTheTarget() {
        RealEsrganSettings s = RealEsrganSettings.stableSr();
        RealEsrganSettings always = new RealEsrganSettings(s.blur1(), s.stage1(), s.secondBlurProbability(), s.blur2(), s.stage2(),
                s.finalSincProbability(), 1.0, true);
        Image hr = testImage(3, 32, 32, false, 4);
        DegradedPair p = new RealEsrganDegradation(4, always).apply(hr, new SplittableRandom(6));
        assertArrayEquals(MatlabResize.resize(p.hr().pixels(), 3, 32, 32, 0.25), p.lr().pixels());
        assertTrue(p.steps().get(p.steps().size() - 1).startsWith("no degradation"), p.steps().toString());
    }

    @Test
    void jpegRoundTripChangesTheImageButKeepsItsSize() {
        for (int channels : new int[] {1, 3}) {
            Image img = testImage(channels, 23, 31, false, 7);
            float[] back = RealEsrganDegradation.jpegRoundTrip(img.pixels(), channels, 23, 31, 60);
            assertEquals(img.pixels().length, back.length);
            double maxDiff = 0, meanDiff = 0;
            for (int i = 0; i < back.length; i++) {
                double d = Math.abs(back[i] - img.pixels()[i]);
                maxDiff = Math.max(maxDiff, d);
                meanDiff += d / back.length;
            }
            assertTrue(maxDiff > 2 / 255.0, "JPEG at quality 60 changes the image (max change " + maxDiff + ")");
            assertTrue(meanDiff < 0.05, "but keeps it recognisable (mean change " + meanDiff + ")");
            float[] best = RealEsrganDegradation.jpegRoundTrip(img.pixels(), channels, 23, 31, 100);
            double bestDiff = 0;
            for (int i = 0; i < best.length; i++) bestDiff += Math.abs(best[i] - img.pixels()[i]) / best.length;
            assertTrue(bestDiff < meanDiff, "quality 100 is closer than quality 60");
        }
    }

    @Test
    void settingsAreStableSrs() {
        RealEsrganSettings s = RealEsrganSettings.stableSr();
        assertEquals(List.of(0.45, 0.25, 0.12, 0.03, 0.12, 0.03), s.blur1().kernelProbabilities());
        assertEquals(s.blur1().kernelProbabilities(), s.blur2().kernelProbabilities());
        assertEquals(0.1, s.blur1().sincProbability());
        assertEquals(Range.of(0.2, 1.5), s.blur1().sigma());
        assertEquals(Range.of(0.2, 1.0), s.blur2().sigma());
        assertEquals(Range.of(0.5, 2.0), s.blur1().generalizedBeta());
        assertEquals(Range.of(1, 1.5), s.blur1().plateauBeta());
        assertEquals(List.of(0.2, 0.7, 0.1), s.stage1().resizeProbabilities());
        assertEquals(Range.of(0.3, 1.5), s.stage1().resizeRange());
        assertEquals(Range.of(0.6, 1.2), s.stage2().resizeRange());
        assertEquals(Range.of(1, 15), s.stage1().noiseSigma());
        assertEquals(Range.of(1, 12), s.stage2().noiseSigma());
        assertEquals(Range.of(0.05, 2.0), s.stage1().poissonScale());
        assertEquals(Range.of(0.05, 1.0), s.stage2().poissonScale());
        assertEquals(0.4, s.stage1().grayNoiseProbability());
        assertEquals(0.4, s.stage2().grayNoiseProbability());
        assertEquals(Range.of(60, 95), s.stage1().jpegQuality());
        assertEquals(Range.of(60, 100), s.stage2().jpegQuality());
        assertEquals(0.5, s.secondBlurProbability());
        assertEquals(0.8, s.finalSincProbability());
        assertEquals(0.01, s.noDegradationProbability());
        assertTrue(s.sharpenTarget());
        assertEquals(List.of(7, 9, 11, 13, 15, 17, 19, 21), RealEsrganSettings.KERNEL_SIZES);
    }

    @Test
    void badSettingsAreRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Blur(List.of(0.5, 0.5, 0.5, 0.0, 0.0, 0.0), 0.1, Range.of(0.2, 1), Range.of(0.5, 2), Range.of(1, 1.5)));
        assertTrue(e.getMessage().contains("sum to 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Range.of(2, 1));
        assertThrows(IllegalArgumentException.class, () -> new RealEsrganDegradation(0));
    }

    /** Counts within 5 standard deviations of n p. */
    static void assertFrequency(double p, int count, int n, String what) {
        double sd = Math.sqrt(n * p * (1 - p));
        assertEquals(n * p, count, 5 * sd + 1, what + ": " + count + " of " + n + ", expected about " + n * p);
    }

    @Test
    void kernelsAreDrawnWithTheConfiguredProbabilitiesSizesAndRanges() {
        Blur blur = RealEsrganSettings.stableSr().blur1();
        SplittableRandom rng = new SplittableRandom(9);
        int n = 3000, sinc = 0;
        int[] types = new int[KernelType.values().length], sizes = new int[22];
        for (int i = 0; i < n; i++) {
            List<String> steps = new ArrayList<>();
            Kernel k = RealEsrganDegradation.drawKernel(blur, rng, steps, "kernel1");
            assertEquals(21, k.size(), "padded to 21");
            assertEquals(1.0, k.sum(), 1e-9);
            String line = steps.get(0);
            int size = Integer.parseInt(line.replaceAll(".*size=(\\d+).*", "$1"));
            sizes[size]++;
            assertTrue(k.trimmed().size() <= size, "nothing outside the drawn size: " + line);
            if (line.startsWith("kernel1 sinc")) {
                sinc++;
                double cutoff = Double.parseDouble(line.replaceAll(".*cutoff=([0-9.]+).*", "$1"));
                assertTrue(cutoff >= (size < 13 ? Math.PI / 3 : Math.PI / 5) - 1e-4 && cutoff <= Math.PI + 1e-4, line);
            } else {
                KernelType t = KernelType.valueOf(line.split(" ")[1].toUpperCase(java.util.Locale.ROOT));
                types[t.ordinal()]++;
                String[] sig = line.replaceAll(".*sigma=\\(([0-9.]+), ([0-9.]+)\\).*", "$1 $2").split(" ");
                for (String s : sig) assertTrue(Range.of(0.2 - 1e-4, 1.5 + 1e-4).contains(Double.parseDouble(s)), line);
                double beta = Double.parseDouble(line.replaceAll(".*beta=([0-9.]+).*", "$1"));
                if (t == KernelType.GENERALIZED_ISO || t == KernelType.GENERALIZED_ANISO) assertTrue(beta >= 0.5 - 1e-4 && beta <= 2 + 1e-4, line);
                if (t == KernelType.PLATEAU_ISO || t == KernelType.PLATEAU_ANISO) assertTrue(beta >= 1 - 1e-4 && beta <= 1.5 + 1e-4, line);
            }
        }
        assertFrequency(0.1, sinc, n, "sinc kernels");
        for (KernelType t : KernelType.values()) {
            assertFrequency(blur.kernelProbabilities().get(t.ordinal()), types[t.ordinal()], n - sinc, t.label());
        }
        for (int s : RealEsrganSettings.KERNEL_SIZES) assertFrequency(1 / 8.0, sizes[s], n, "size " + s);
    }

    @Test
    void pipelineBranchesHappenAsOftenAsConfigured() {
        Image hr = testImage(3, 16, 16, false, 10);
        int n = 400, secondBlur = 0, sincFirst = 0, finalSinc = 0, gaussian1 = 0, undegraded = 0;
        int[] resize1 = new int[3];
        for (int i = 0; i < n; i++) {
            List<String> steps = x4.apply(hr, new SplittableRandom(1000 + i)).steps();
            String all = String.join("\n", steps);
            if (all.contains("no degradation")) {
                undegraded++;
                continue;
            }
            if (all.contains("blur2 applied")) secondBlur++;
            if (all.indexOf("resize back") < all.indexOf("jpeg2")) sincFirst++;
            if (!all.contains("final sinc none")) finalSinc++;
            if (all.contains("noise1 gaussian")) gaussian1++;
            String r1 = steps.stream().filter(s -> s.startsWith("resize1")).findFirst().orElseThrow();
            resize1[r1.contains(" up ") ? 0 : r1.contains(" down ") ? 1 : 2]++;
        }
        int m = n - undegraded;
        assertTrue(undegraded <= 12, undegraded + " undegraded of " + n + " at 1%");
        assertFrequency(0.5, secondBlur, m, "second blur");
        assertFrequency(0.5, sincFirst, m, "[resize + sinc] before JPEG");
        assertFrequency(0.8, finalSinc, m, "final sinc");
        assertFrequency(0.5, gaussian1, m, "Gaussian (not Poisson) noise in the first order");
        assertFrequency(0.2, resize1[0], m, "first resize up");
        assertFrequency(0.7, resize1[1], m, "first resize down");
    }

    @Test
    void theGeneratorOfAnImageDependsOnlyOnTheSeedAndTheName() {
        long a = Degradation.generatorFor(7, "0801").nextLong();
        assertEquals(a, Degradation.generatorFor(7, "0801").nextLong());
        assertNotEquals(a, Degradation.generatorFor(8, "0801").nextLong());
        assertNotEquals(a, Degradation.generatorFor(7, "0802").nextLong());
    }

    @Test
    void bicubicIsMatlabImresizeOfTheCroppedInput() {
        Image hr = testImage(3, 35, 42, true, 11);
        DegradedPair p = new BicubicDegradation(8).apply(hr, null);
        assertEquals(32, p.hr().height());
        assertEquals(40, p.hr().width());
        assertArrayEquals(MatlabResize.resize(hr.crop(0, 0, 32, 40).pixels(), 3, 32, 40, 0.125), p.lr().pixels());
        assertEquals(4 * 5, p.lr().alpha().length);
    }
}
