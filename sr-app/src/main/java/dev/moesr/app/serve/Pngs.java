package dev.moesr.app.serve;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.image.MatlabResize;

/**
 * PNG bytes in memory, as {@code infer} writes a .png file ({@link ImageFiles#encodePng}), and the
 * bicubic view of an input.
 */
final class Pngs {
    private Pngs() {}

    /** The image at its own {@link Image#bitDepth} (16 bits for an image read from a 16-bit file, else 8), as infer writes it. */
    static byte[] encode(Image image) {
        return encode(image, image.bitDepth());
    }

    /** The image as a PNG with 8 or 16 bits per sample. */
    static byte[] encode(Image image, int bitDepth) {
        return ImageFiles.encodePng(image, bitDepth);
    }

    /** The image resized to {@code outW x outH} with the MATLAB-style bicubic kernel the model's condition uses (alpha bicubically too). */
    static Image bicubic(Image image, int outH, int outW) {
        float[] px = MatlabResize.resizeTo(image.pixels(), image.channels(), image.height(), image.width(), outH, outW);
        return new Image(image.channels(), outH, outW, px, image.resizeAlpha(outH, outW));
    }
}
