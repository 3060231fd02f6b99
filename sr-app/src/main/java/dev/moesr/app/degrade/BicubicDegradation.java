package dev.moesr.app.degrade;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.MatlabResize;

import java.util.List;
import java.util.random.RandomGenerator;

/** The classic benchmark degradation: LR = MATLAB bicubic imresize of the HR image by 1 / scale (antialiased). */
public final class BicubicDegradation implements Degradation {
    private final int scale;

    public BicubicDegradation(int scale) {
        Degradation.requireScale(scale);
        this.scale = scale;
    }

    @Override public String name() { return "bicubic"; }

    @Override public int scale() { return scale; }

    /** Deterministic: the generator is not used. */
    @Override public DegradedPair apply(Image hr, RandomGenerator rng) {
        Image target = hr.cropToMultipleOf(scale);
        return new DegradedPair(downscale(target, scale), target, List.of("bicubic 1/" + scale + " (MATLAB imresize)"));
    }

    /** MATLAB bicubic downscale by an integer factor, alpha resized the same way and clamped. */
    static Image downscale(Image hr, int scale) {
        int h = hr.height() / scale, w = hr.width() / scale;
        float[] lr = MatlabResize.resizeTo(hr.pixels(), hr.channels(), hr.height(), hr.width(), h, w);
        return new Image(hr.channels(), h, w, lr, hr.resizeAlpha(h, w));
    }
}
