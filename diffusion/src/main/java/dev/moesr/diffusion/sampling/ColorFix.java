package dev.moesr.diffusion.sampling;

import dev.moesr.tensor.Tensor;

/**
 * The optional colour fix after decoding: match each channel's mean and standard deviation of
 * the result to those of a reference (the LR image upscaled to the same size), as StableSR's
 * AdaIN colour correction does (unbiased variance plus 1e-5 under the square root).
 */
public final class ColorFix {
    /** Added to the variance under the square root. */
    public static final float EPS = 1e-5f;

    private ColorFix() {}

    /** image and reference are [N, C, H, W] with the same N and C (sizes may differ). */
    public static Tensor adain(Tensor image, Tensor reference) {
        if (image.rank() != 4 || reference.rank() != 4 || image.dim(0) != reference.dim(0) || image.dim(1) != reference.dim(1)) {
            throw new IllegalArgumentException("colour fix needs two [N, C, H, W] tensors with the same N and C, got " + image.shape() + " and " + reference.shape());
        }
        int[] spatial = {2, 3};
        Tensor mean = image.mean(spatial, true);
        Tensor std = image.var(spatial, true, 1).add(EPS).sqrt();
        Tensor refMean = reference.mean(spatial, true);
        Tensor refStd = reference.var(spatial, true, 1).add(EPS).sqrt();
        return image.sub(mean).div(std).mul(refStd).add(refMean);
    }
}
