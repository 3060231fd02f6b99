package dev.moesr.app.image;

import dev.moesr.nn.io.AtomicFiles;

import javax.imageio.IIOException;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reading and writing image files with the JDK's ImageIO: PNG (8 and 16 bit, gray, gray+alpha,
 * RGB, RGBA, palette), JPEG and BMP in; PNG, JPEG or BMP out, chosen by the file extension.
 * Every failure is an {@link ImageException} whose message names the file and the problem.
 */
public final class ImageFiles {
    private ImageFiles() {}

    /** Images larger than this many pixels are refused unless the caller passes its own limit. */
    public static final long DEFAULT_MAX_PIXELS = 50_000_000L;

    /** File extensions (lower case, no dot) taken as images when a folder is listed. */
    public static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp");

    private static final Set<String> READABLE_FORMATS = Set.of("png", "jpeg", "bmp");

    /** The quality of JPEG files written by {@link #write} (the quality factor of libjpeg, 1..100). */
    public static final int DEFAULT_JPEG_QUALITY = 95;

    public static Image read(Path file) throws ImageException {
        return read(file, DEFAULT_MAX_PIXELS);
    }

    /** Reads an image, refusing it before decoding when it has more than {@code maxPixels} pixels. */
    public static Image read(Path file, long maxPixels) throws ImageException {
        long size;
        try {
            if (Files.isDirectory(file)) throw new ImageException(file + ": is a folder, not an image file");
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new ImageException(file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new ImageException(file + ": permission denied");
        } catch (ImageException e) {
            throw e;
        } catch (IOException e) {
            throw new ImageException(file + ": cannot be read (" + describe(e) + ")", e);
        }
        if (size == 0) throw new ImageException(file + ": is empty (0 bytes)");
        // decoded straight from the file, so that the size check comes before any large allocation
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) throw new ImageException(file + ": cannot be opened");
            return decode(in, file.toString(), maxPixels);
        } catch (ImageException e) {
            throw e;
        } catch (IOException e) {
            throw new ImageException(file + ": cannot be read (" + describe(e) + ")", e);
        }
    }

    /** Decodes an image held in memory; {@code name} is used in messages. */
    public static Image decode(byte[] bytes, String name, long maxPixels) throws ImageException {
        // in-memory streams: ImageIO's default would cache through temporary files
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            return decode(in, name, maxPixels);
        } catch (ImageException e) {
            throw e;
        } catch (IOException e) {
            throw new ImageException(name + ": cannot be read (" + describe(e) + ")", e);
        }
    }

    private static Image decode(ImageInputStream in, String name, long maxPixels) throws ImageException {
        try {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new ImageException(name + ": not an image in a format this program reads (PNG, JPEG, BMP)");
            }
            ImageReader reader = readers.next();
            try {
                String format = reader.getFormatName().toLowerCase(Locale.ROOT);
                if (format.equals("jpg")) format = "jpeg";
                if (!READABLE_FORMATS.contains(format)) {
                    throw new ImageException(name + ": is a " + format.toUpperCase(Locale.ROOT)
                            + " image; the formats read are PNG, JPEG and BMP (convert it first)");
                }
                reader.setInput(in, true, true);
                int w, h;
                try {
                    w = reader.getWidth(0);
                    h = reader.getHeight(0);
                } catch (IIOException e) {
                    // the PNG reader refuses a zero width or height in the header itself
                    String m = describe(e);
                    if (m.contains("<= 0")) throw new ImageException(name + ": has no pixels (" + m + ")");
                    throw e;
                }
                if (w <= 0 || h <= 0) throw new ImageException(name + ": has no pixels (" + w + "x" + h + ")");
                if ((long) w * h > maxPixels) {
                    throw new ImageException(name + ": is " + w + "x" + h + " = " + (long) w * h + " pixels, more than the limit of "
                            + maxPixels + " (raise it with --max-pixels if the memory allows)");
                }
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                BufferedImage image = reader.read(0);
                for (String warning : warnings) {
                    // The JPEG decoder fills a cut-off file with gray and only warns: treat that as the damage it is.
                    if (warning.toLowerCase(Locale.ROOT).contains("premature end")) {
                        throw new ImageException(name + ": is truncated (" + warning.trim() + ")");
                    }
                }
                return fromBufferedImage(image, name);
            } finally {
                reader.dispose();
            }
        } catch (ImageException e) {
            throw e;
        } catch (IIOException e) {
            throw new ImageException(name + ": is damaged or truncated (" + describe(e) + ")", e);
        } catch (IOException | RuntimeException e) {
            // ImageIO's decoders throw plain runtime exceptions (index out of bounds, negative sizes) on corrupt headers.
            throw new ImageException(name + ": is damaged or truncated (" + describe(e) + ")", e);
        } catch (OutOfMemoryError e) {
            throw new ImageException(name + ": does not fit in memory (raise -Xmx or use smaller images)", e);
        }
    }

    /** The innermost message of an exception chain, or its class name when it has none. */
    private static String describe(Throwable e) {
        Throwable t = e;
        String message = null;
        while (t != null) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) message = t.getMessage();
            if (t.getCause() == null || t.getCause() == t) break;
            t = t.getCause();
        }
        String m = message != null ? message : e.getClass().getSimpleName();
        return m.replace('\n', ' ').trim();
    }

    /**
     * Converts a decoded image: palette images through their palette, gray and RGB images
     * sample by sample (each divided by the largest value of its bit depth, so 16-bit PNGs keep
     * their precision), the alpha band (if any) into the separate alpha plane.
     */
    public static Image fromBufferedImage(BufferedImage image, String name) throws ImageException {
        int w = image.getWidth(), h = image.getHeight();
        ColorModel cm = image.getColorModel();
        if (cm instanceof IndexColorModel icm) return fromPalette(image, icm);
        ColorSpace cs = cm.getColorSpace();
        int colours = cm.getNumColorComponents();
        boolean rgb = cs.getType() == ColorSpace.TYPE_RGB && colours == 3;
        boolean gray = cs.getType() == ColorSpace.TYPE_GRAY && colours == 1;
        if (!rgb && !gray) {
            throw new ImageException(name + ": has an unsupported colour space (" + colours + " colour components, type "
                    + cs.getType() + "); convert it to RGB or gray");
        }
        if (cm.isAlphaPremultiplied()) {
            image.coerceData(false);
        }
        Raster raster = image.getRaster();
        if (raster.getNumBands() != cm.getNumComponents()) {
            throw new ImageException(name + ": has " + raster.getNumBands() + " bands for " + cm.getNumComponents() + " components");
        }
        int plane = w * h;
        float[] pixels = new float[colours * plane];
        int[] row = new int[w];
        for (int b = 0; b < colours; b++) {
            double max = (1L << cm.getComponentSize(b)) - 1;
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, b, row);
                for (int x = 0; x < w; x++) pixels[b * plane + y * w + x] = (float) (row[x] / max);
            }
        }
        float[] alpha = null;
        if (cm.hasAlpha()) {
            alpha = new float[plane];
            double max = (1L << cm.getComponentSize(colours)) - 1;
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, colours, row);
                for (int x = 0; x < w; x++) alpha[y * w + x] = (float) (row[x] / max);
            }
        }
        return new Image(colours, h, w, pixels, alpha);
    }

    private static Image fromPalette(BufferedImage image, IndexColorModel icm) {
        int w = image.getWidth(), h = image.getHeight(), plane = w * h;
        boolean gray = true;
        for (int i = 0; i < icm.getMapSize(); i++) {
            if (icm.getRed(i) != icm.getGreen(i) || icm.getGreen(i) != icm.getBlue(i)) {
                gray = false;
                break;
            }
        }
        boolean hasAlpha = icm.getTransparency() != Transparency.OPAQUE;
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        int channels = gray ? 1 : 3;
        float[] pixels = new float[channels * plane];
        float[] alpha = hasAlpha ? new float[plane] : null;
        for (int i = 0; i < plane; i++) {
            int p = argb[i];
            if (gray) {
                pixels[i] = (p & 0xFF) / 255f;
            } else {
                pixels[i] = ((p >> 16) & 0xFF) / 255f;
                pixels[plane + i] = ((p >> 8) & 0xFF) / 255f;
                pixels[2 * plane + i] = (p & 0xFF) / 255f;
            }
            if (hasAlpha) alpha[i] = ((p >>> 24) & 0xFF) / 255f;
        }
        return new Image(channels, h, w, pixels, alpha);
    }

    /**
     * A BufferedImage holding the image quantised to {@code bitDepth} (8 or 16) bits per sample,
     * rounding to the nearest level (ties to even) after clamping to [0, 1].
     */
    public static BufferedImage toBufferedImage(Image image, int bitDepth) {
        if (bitDepth != 8 && bitDepth != 16) throw new IllegalArgumentException("bit depth must be 8 or 16, not " + bitDepth);
        image.requireFinite("cannot store the image");
        int w = image.width(), h = image.height(), plane = w * h, colours = image.channels();
        boolean alpha = image.hasAlpha();
        ColorSpace cs = ColorSpace.getInstance(colours == 1 ? ColorSpace.CS_GRAY : ColorSpace.CS_sRGB);
        BufferedImage out;
        if (bitDepth == 8 && !(alpha && colours == 1)) {
            // The standard types: every ImageIO writer (BMP included) knows them.
            int type = colours == 1 ? BufferedImage.TYPE_BYTE_GRAY : alpha ? BufferedImage.TYPE_4BYTE_ABGR : BufferedImage.TYPE_3BYTE_BGR;
            out = new BufferedImage(w, h, type);
        } else {
            ComponentColorModel cm = new ComponentColorModel(cs, alpha, false, alpha ? Transparency.TRANSLUCENT : Transparency.OPAQUE,
                    bitDepth == 16 ? DataBuffer.TYPE_USHORT : DataBuffer.TYPE_BYTE);
            out = new BufferedImage(cm, cm.createCompatibleWritableRaster(w, h), false, null);
        }
        WritableRaster raster = out.getRaster();
        int max = (1 << bitDepth) - 1;
        int[] row = new int[w];   // a row at a time: a whole plane of ints would be as large as the image itself
        float[] px = image.pixels();
        for (int b = 0; b < colours; b++) {
            for (int y = 0; y < h; y++) {
                int base = b * plane + y * w;
                for (int x = 0; x < w; x++) row[x] = quantise(px[base + x], max);
                raster.setSamples(0, y, w, 1, b, row);
            }
        }
        if (alpha) {
            float[] a = image.alpha();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) row[x] = quantise(a[y * w + x], max);
                raster.setSamples(0, y, w, 1, colours, row);
            }
        }
        return out;
    }

    static int quantise(float v, int max) {
        return (int) Math.rint(Math.min(1f, Math.max(0f, v)) * (double) max);
    }

    /** The output format of a file name: "png", "jpeg" or "bmp". */
    public static String formatOf(Path file) throws ImageException {
        String ext = extension(file);
        return switch (ext) {
            case "png" -> "png";
            case "jpg", "jpeg" -> "jpeg";
            case "bmp" -> "bmp";
            default -> throw new ImageException(file + ": cannot write '" + (ext.isEmpty() ? "(no extension)" : ext)
                    + "' files; use .png, .jpg or .bmp");
        };
    }

    /** The lower-case extension without the dot, or "" when there is none. */
    public static String extension(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot <= 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    /** The file name without its extension. */
    public static String stem(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot <= 0 ? n : n.substring(0, dot);
    }

    /** Writes in the format of the extension: PNG 8-bit, JPEG at {@link #DEFAULT_JPEG_QUALITY}, BMP. */
    public static void write(Path file, Image image) throws ImageException {
        String format = formatOf(file);
        if (format.equals("jpeg")) writeJpeg(file, image, DEFAULT_JPEG_QUALITY);
        else write(file, image, format, 8);
    }

    /** Writes a PNG with 8 or 16 bits per sample. */
    public static void writePng(Path file, Image image, int bitDepth) throws ImageException {
        write(file, image, "png", bitDepth);
    }

    /** Writes a JPEG at {@code quality} (1..100, libjpeg's scale). JPEG has no alpha: an image with one is refused. */
    public static void writeJpeg(Path file, Image image, double quality) throws ImageException {
        if (image.hasAlpha()) {
            throw new ImageException(file + ": JPEG cannot store the alpha channel of this image; write a .png instead");
        }
        byte[] bytes;
        try {
            bytes = encodeJpeg(image, quality);
        } catch (IOException e) {
            throw new ImageException(file + ": JPEG encoding failed (" + describe(e) + ")", e);
        }
        writeAtomically(file, out -> out.write(bytes));
    }

    private static void write(Path file, Image image, String format, int bitDepth) throws ImageException {
        if (format.equals("bmp") && (image.hasAlpha() || bitDepth != 8)) {
            throw new ImageException(file + ": BMP output takes 8-bit images without alpha; write a .png instead");
        }
        BufferedImage bi;
        try {
            bi = toBufferedImage(image, bitDepth);
        } catch (IllegalArgumentException e) {
            throw new ImageException(file + ": " + e.getMessage());
        }
        writeAtomically(file, out -> {
            try (ImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
                if (!ImageIO.write(bi, format, ios)) throw new IOException("no ImageIO writer for " + format + " takes this image");
            }
        });
    }

    /** Encodes as baseline JPEG with ImageIO at a quality of 1..100 (libjpeg's scale; fractions allowed). */
    public static byte[] encodeJpeg(Image image, double quality) throws IOException {
        if (!(quality >= 1 && quality <= 100)) throw new IllegalArgumentException("JPEG quality must be in [1, 100], got " + quality);
        BufferedImage bi = toBufferedImage(image.withoutAlpha(), 8);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality((float) (quality / 100));
            writer.write(null, new IIOImage(bi, null, null), param);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    interface Writer {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes to a temporary file in the target's folder, then moves it over the target in one
     * step, so that a reader never sees half a file and a failure leaves the old file (if any)
     * as it was.
     */
    static void writeAtomically(Path file, Writer writer) throws ImageException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new ImageException(file + ": the folder " + dir + " does not exist");
        if (Files.isDirectory(target)) throw new ImageException(file + ": is a folder");
        Path tmp = null;
        try {
            tmp = AtomicFiles.newTemporarySibling(target);
            try (OutputStream out = Files.newOutputStream(tmp)) {
                writer.writeTo(out);
            }
            AtomicFiles.replace(tmp, target);
            tmp = null;
        } catch (AccessDeniedException e) {
            throw new ImageException(file + ": permission denied");
        } catch (IOException e) {
            throw new ImageException(file + ": cannot be written (" + describe(e) + ")", e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the write already failed; that is the error worth reporting
                }
            }
        }
    }
}
