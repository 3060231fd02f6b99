package dev.moesr.app.degrade;

import dev.moesr.app.image.Image;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/** A way to make an LR image (and its HR target) from an HR image, reproducible from a seed. */
public interface Degradation {
    /** The name used on the command line. */
    String name();

    /** The integer downscaling factor between HR target and LR. */
    int scale();

    /**
     * Degrades one image. The HR image is first cropped (bottom, right) to a multiple of the
     * scale so that LR x scale = HR exactly; an alpha plane is resized on its own with MATLAB
     * bicubic. All randomness comes from {@code rng}.
     */
    DegradedPair apply(Image hr, RandomGenerator rng);

    /**
     * The generator for one image: a function of the run's seed and the image's name only, so
     * that an image gets the same degradation whatever else is in its folder, in any order.
     */
    static RandomGenerator generatorFor(long seed, String name) {
        long h = 0xcbf29ce484222325L;                       // FNV-1a over the UTF-8 name: stable across runs and JVMs
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xFF;
            h *= 0x100000001b3L;
        }
        return new SplittableRandom(mix(seed) ^ mix(h + 0x9E3779B97F4A7C15L));
    }

    /** SplitMix64's finaliser: spreads nearby seeds over the whole 64-bit range. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static void requireScale(int scale) {
        if (scale < 1 || scale > 64) throw new IllegalArgumentException("the scale must be an integer in 1..64, got " + scale);
    }
}
