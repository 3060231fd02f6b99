package dev.moesr.app.serve;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.MatlabResize;
import dev.moesr.app.image.ImageFiles;

import javax.imageio.ImageIO;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** PNG bytes in memory, written as {@code infer} writes a .png file (8 bits per sample, alpha kept). */
final class Pngs {
    private Pngs() {}

    /** The image as an 8-bit PNG: {@link ImageFiles#toBufferedImage} and ImageIO's PNG writer, as {@link ImageFiles#write} does. */
    static byte[] encode(Image image) {
        BufferedImage bi = ImageFiles.toBufferedImage(image, 8);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            if (!ImageIO.write(bi, "png", out)) throw new IOException("no ImageIO writer for PNG takes this image");
        } catch (IOException e) {
            throw new UncheckedIOException("PNG encoding failed: " + e.getMessage(), e);
        }
        return bytes.toByteArray();
    }

    /** The image resized to {@code outW x outH} with the MATLAB-style bicubic kernel the model's condition uses (alpha bicubically too). */
    static Image bicubic(Image image, int outH, int outW) {
        float[] px = MatlabResize.resizeTo(image.pixels(), image.channels(), image.height(), image.width(), outH, outW);
        return new Image(image.channels(), outH, outW, px, image.resizeAlpha(outH, outW));
    }
}
