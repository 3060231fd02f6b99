package dev.moesr.app.serve;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.image.MatlabResize;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOInvalidTreeException;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Iterator;

/**
 * PNG bytes in memory, written as {@code infer} writes a .png file ({@link ImageFiles#write}):
 * the samples of {@link ImageFiles#toBufferedImage} at the given bit depth, alpha kept, with an
 * sRGB chunk (perceptual intent) and the gAMA of sRGB. ImageFiles writes only to files; this is
 * its PNG writer, in memory.
 */
final class Pngs {
    private static final String PNG_METADATA = "javax_imageio_png_1.0";

    private Pngs() {}

    /** The image at its own {@link Image#bitDepth} (16 bits for an image read from a 16-bit file, else 8), as infer writes it. */
    static byte[] encode(Image image) {
        return encode(image, image.bitDepth());
    }

    /** The image as a PNG with 8 or 16 bits per sample. */
    static byte[] encode(Image image, int bitDepth) {
        BufferedImage bi = ImageFiles.toBufferedImage(image, bitDepth);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
            if (!writers.hasNext()) throw new IOException("no ImageIO writer for png");
            ImageWriter writer = writers.next();
            try {
                ImageWriteParam param = writer.getDefaultWriteParam();
                IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(bi), param);
                if (metadata != null && !metadata.isReadOnly() && Arrays.asList(metadata.getMetadataFormatNames()).contains(PNG_METADATA)) {
                    mergeSrgb(metadata);
                }
                writer.setOutput(out);
                writer.write(null, new IIOImage(bi, null, metadata), param);
            } finally {
                writer.dispose();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("PNG encoding failed: " + e.getMessage(), e);
        }
        return bytes.toByteArray();
    }

    private static void mergeSrgb(IIOMetadata metadata) throws IIOInvalidTreeException {
        IIOMetadataNode root = new IIOMetadataNode(PNG_METADATA);
        IIOMetadataNode srgb = new IIOMetadataNode("sRGB");
        srgb.setAttribute("renderingIntent", "Perceptual");
        root.appendChild(srgb);
        IIOMetadataNode gama = new IIOMetadataNode("gAMA");
        gama.setAttribute("value", "45455");
        root.appendChild(gama);
        metadata.mergeTree(PNG_METADATA, root);
    }

    /** The image resized to {@code outW x outH} with the MATLAB-style bicubic kernel the model's condition uses (alpha bicubically too). */
    static Image bicubic(Image image, int outH, int outW) {
        float[] px = MatlabResize.resizeTo(image.pixels(), image.channels(), image.height(), image.width(), outH, outW);
        return new Image(image.channels(), outH, outW, px, image.resizeAlpha(outH, outW));
    }
}
