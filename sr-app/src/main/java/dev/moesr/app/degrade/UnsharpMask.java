package dev.moesr.app.degrade;

/**
 * The unsharp-mask sharpening Real-ESRGAN and StableSR apply to their HR targets (BasicSR's
 * {@code USMSharp}): blur with a 51x51 Gaussian (OpenCV's default sigma for that size, 8),
 * residual = image - blur, sharp = clip(image + weight * residual, 0, 1), and a soft mask (the
 * blurred indicator of |residual| * 255 > threshold) blends sharp and original, so flat areas
 * are left alone.
 */
public final class UnsharpMask {
    private UnsharpMask() {}

    public static final int RADIUS = 50;
    public static final double WEIGHT = 0.5;
    public static final double THRESHOLD = 10;

    /** Sharpens with BasicSR's defaults (radius 50, weight 0.5, threshold 10). */
    public static float[] sharpen(float[] image, int channels, int h, int w) {
        return sharpen(image, channels, h, w, RADIUS, WEIGHT, THRESHOLD);
    }

    public static float[] sharpen(float[] image, int channels, int h, int w, int radius, double weight, double threshold) {
        int size = radius % 2 == 0 ? radius + 1 : radius;
        double[] g = BlurKernels.opencvGaussian1d(size);
        float[] blur = Filters.separable(image, channels, h, w, g);
        float[] mask = new float[image.length];
        for (int i = 0; i < image.length; i++) mask[i] = Math.abs(image[i] - blur[i]) * 255 > threshold ? 1f : 0f;
        float[] soft = Filters.separable(mask, channels, h, w, g);
        float[] out = new float[image.length];
        for (int i = 0; i < image.length; i++) {
            double residual = image[i] - blur[i];
            double sharp = Math.min(1, Math.max(0, image[i] + weight * residual));
            out[i] = (float) (soft[i] * sharp + (1 - soft[i]) * image[i]);
        }
        return out;
    }
}
