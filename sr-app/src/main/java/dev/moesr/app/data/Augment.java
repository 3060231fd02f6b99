package dev.moesr.app.data;

import dev.moesr.app.image.Image;

import java.util.random.RandomGenerator;

/** Random crops and flips for training, drawn from a seeded generator. */
public final class Augment {
    private Augment() {}

    /** A training example: the LR input and its HR target, aligned (HR = scale x LR). */
    public record Sample(Image lr, Image hr) {}

    /**
     * The same random window of both images: lrPatch x lrPatch at a random LR position and the
     * matching (scale x lrPatch)^2 HR window.
     */
    public static Sample pairedCrop(Image lr, Image hr, int scale, int lrPatch, RandomGenerator rng) {
        if (hr.height() != lr.height() * scale || hr.width() != lr.width() * scale) {
            throw new IllegalArgumentException("the HR image is " + hr.sizeText() + " but the LR image " + lr.sizeText() + " times " + scale
                    + " is " + lr.width() * scale + "x" + lr.height() * scale + "; pairs must line up exactly");
        }
        if (lr.channels() != hr.channels()) {
            throw new IllegalArgumentException("the LR image has " + lr.channels() + " channel(s), the HR image " + hr.channels());
        }
        if (lrPatch < 1 || lrPatch > lr.height() || lrPatch > lr.width()) {
            throw new IllegalArgumentException("an LR patch of " + lrPatch + "x" + lrPatch + " does not fit in the " + lr.sizeText() + " LR image");
        }
        int top = rng.nextInt(lr.height() - lrPatch + 1), left = rng.nextInt(lr.width() - lrPatch + 1);
        return new Sample(lr.crop(top, left, lrPatch, lrPatch), hr.crop(top * scale, left * scale, lrPatch * scale, lrPatch * scale));
    }

    /** A random patch x patch window of one image. */
    public static Image crop(Image image, int patch, RandomGenerator rng) {
        if (patch < 1 || patch > image.height() || patch > image.width()) {
            throw new IllegalArgumentException("a patch of " + patch + "x" + patch + " does not fit in the " + image.sizeText() + " image");
        }
        return image.crop(rng.nextInt(image.height() - patch + 1), rng.nextInt(image.width() - patch + 1), patch, patch);
    }

    /**
     * The same random flips of both images: left-right with probability 1/2, and when
     * {@code rotations} also top-bottom and transposed with probability 1/2 each (together the
     * eight symmetries of the square).
     */
    public static Sample flips(Sample s, boolean rotations, RandomGenerator rng) {
        Image lr = s.lr(), hr = s.hr();
        if (rng.nextBoolean()) {
            lr = lr.flipHorizontal();
            hr = hr.flipHorizontal();
        }
        if (rotations) {
            if (rng.nextBoolean()) {
                lr = lr.flipVertical();
                hr = hr.flipVertical();
            }
            if (rng.nextBoolean()) {
                lr = lr.transpose();
                hr = hr.transpose();
            }
        }
        return new Sample(lr, hr);
    }
}
