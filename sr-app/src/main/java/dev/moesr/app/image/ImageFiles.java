package dev.moesr.app.image;

import dev.moesr.nn.io.AtomicFiles;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

import javax.imageio.IIOException;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reading and writing image files with ImageIO: PNG (8 and 16 bit, gray, gray+alpha, RGB, RGBA,
 * palette), JPEG (RGB, gray, CMYK and YCCK through the TwelveMonkeys plugin), BMP, WebP and TIFF
 * in; PNG, JPEG or BMP out, chosen by the file extension. Every failure is an {@link
 * ImageException} whose message names the file and the problem.
 *
 * <p>A file is read as a viewer shows it: its EXIF orientation applied (JPEG, PNG eXIf, TIFF,
 * WebP) and its colours converted to sRGB (an embedded ICC profile, or a PNG gAMA other than
 * sRGB's; see {@link SrgbConversion} and docs/images.md). The image remembers whether the file
 * had 16 bits per sample, and {@link #write} gives it a 16-bit PNG back. PNG output carries an
 * sRGB chunk; JPEG and BMP output are sRGB by convention.
 */
public final class ImageFiles {
    private ImageFiles() {}

    /** Images larger than this many pixels are refused unless the caller passes its own limit. */
    public static final long DEFAULT_MAX_PIXELS = 50_000_000L;

    /** File extensions (lower case, no dot) taken as images when a folder is listed: the formats read. */
    public static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "webp", "tif", "tiff");

    private static final Set<String> READABLE_FORMATS = Set.of("png", "jpeg", "bmp", "webp", "tiff");

    /** The formats read, in words for messages. */
    static final String READABLE_NAMES = "PNG, JPEG, BMP, WebP and TIFF";

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
            return decode(in, file.toString(), maxPixels, () -> new BufferedInputStream(Files.newInputStream(file)), null);
        } catch (ImageException e) {
            throw e;
        } catch (IOException e) {
            throw new ImageException(file + ": cannot be read (" + describe(e) + ")", e);
        }
    }

    /** Decodes an image held in memory; {@code name} is used in messages. */
    public static Image decode(byte[] bytes, String name, long maxPixels) throws ImageException {
        return decode(bytes, name, maxPixels, null);
    }

    /** {@link #decode(byte[], String, long)} with a given reader (null: the first that takes the bytes). */
    static Image decode(byte[] bytes, String name, long maxPixels, ImageReader reader) throws ImageException {
        // in-memory streams: ImageIO's default would cache through temporary files
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            return decode(in, name, maxPixels, () -> new ByteArrayInputStream(bytes), reader);
        } catch (ImageException e) {
            throw e;
        } catch (IOException e) {
            throw new ImageException(name + ": cannot be read (" + describe(e) + ")", e);
        }
    }

    private static Image decode(ImageInputStream in, String name, long maxPixels, FileMetadata.Source source, ImageReader chosen)
            throws ImageException {
        try {
            ImageReader reader = chosen;
            if (reader == null) {
                Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
                if (!readers.hasNext()) {
                    throw new ImageException(name + ": not an image in a format this program reads (" + READABLE_NAMES + ")");
                }
                reader = readers.next();
            }
            try {
                String format = reader.getFormatName().toLowerCase(Locale.ROOT);
                if (format.equals("jpg")) format = "jpeg";
                if (format.equals("tif")) format = "tiff";
                if (!READABLE_FORMATS.contains(format)) {
                    throw new ImageException(name + ": is a " + format.toUpperCase(Locale.ROOT)
                            + " image; the formats read are " + READABLE_NAMES + " (convert it first)");
                }
                reader.setInput(in, true, false);   // metadata kept: a PNG's iCCP, gAMA and sRGB chunks
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
                reader.addIIOReadWarningListener((r, warning) -> warnings.add(warning));
                BufferedImage image;
                try {
                    image = reader.read(0);
                } catch (IIOException e) {
                    // The JDK's own JPEG reader (without the TwelveMonkeys plugin) has no image type for 4 components.
                    if (format.equals("jpeg") && describe(e).contains("Unsupported Image Type") && FileMetadata.jpegComponents(source) == 4) {
                        throw new ImageException(name + ": is a CMYK JPEG; convert it to RGB first");
                    }
                    throw e;
                }
                if (format.equals("jpeg") && image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_CMYK) {
                    // The TwelveMonkeys plugin hands CMYK, Adobe-inverted CMYK and YCCK back as RGB; a reader that
                    // hands back CMYK samples (the JDK's) converts them without a profile and misreads YCCK.
                    throw new ImageException(name + ": is a CMYK JPEG; convert it to RGB first");
                }
                for (String warning : warnings) {
                    // The JPEG decoder fills a cut-off file with gray and only warns: treat that as the damage it is.
                    if (warning.toLowerCase(Locale.ROOT).contains("premature end")) {
                        throw new ImageException(name + ": is truncated (" + warning.trim() + ")");
                    }
                }
                Image img = fromBufferedImage(image, name);
                ColorModel cm = image.getColorModel();
                if (format.equals("png") && (cm instanceof IndexColorModel || isStandard(cm.getColorSpace()))) {
                    img = pngToSrgb(img, reader);   // the JDK's PNG reader leaves iCCP and gAMA to its caller
                }
                return img.oriented(FileMetadata.orientation(format, source));
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

    /**
     * A PNG's colours in sRGB, by the PNG rule of precedence: an sRGB chunk means the values are
     * sRGB already; otherwise an iCCP profile is converted from; otherwise a gAMA other than
     * 1/2.2 is re-encoded with the sRGB curve (cHRM is not used). A PNG without any of them is
     * taken as sRGB, as browsers do.
     */
    private static Image pngToSrgb(Image img, ImageReader reader) {
        Node root;
        try {
            IIOMetadata metadata = reader.getImageMetadata(0);
            if (metadata == null) return img;
            root = metadata.getAsTree(PNG_METADATA);
        } catch (IOException | RuntimeException e) {
            return img;   // metadata the reader cannot give: the values as stored
        }
        Node srgb = null, iccp = null, gama = null;
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            switch (n.getNodeName()) {
                case "sRGB" -> srgb = n;
                case "iCCP" -> iccp = n;
                case "gAMA" -> gama = n;
                default -> { }
            }
        }
        if (srgb != null) return img;
        if (iccp instanceof IIOMetadataNode node && node.getUserObject() instanceof byte[] bytes) {
            ICC_Profile profile = iccProfile(bytes);
            if (profile != null) return SrgbConversion.fromProfile(img, profile);
        }
        if (gama != null) {
            try {
                return SrgbConversion.fromGamma(img, Integer.parseInt(((Element) gama).getAttribute("value")) / 100_000.0);
            } catch (NumberFormatException e) {
                return img;
            }
        }
        return img;
    }

    private static final String PNG_METADATA = "javax_imageio_png_1.0";

    /** An ICC profile from a PNG's iCCP data (zlib-compressed in the file; some readers hand it over inflated), or null. */
    private static ICC_Profile iccProfile(byte[] data) {
        byte[] raw = data;
        if (!(data.length > 40 && data[36] == 'a' && data[37] == 'c' && data[38] == 's' && data[39] == 'p')) {
            Inflater inflater = new Inflater();
            try {
                inflater.setInput(data);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                byte[] buf = new byte[8192];
                while (!inflater.finished()) {
                    int n = inflater.inflate(buf);
                    if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) return null;
                    out.write(buf, 0, n);
                    if (out.size() > 64 << 20) return null;   // no real profile is this large
                }
                raw = out.toByteArray();
            } catch (DataFormatException e) {
                return null;
            } finally {
                inflater.end();
            }
        }
        try {
            return ICC_Profile.getInstance(raw);
        } catch (IllegalArgumentException e) {
            return null;   // not a profile the JDK takes: the values as stored, as a viewer would show them
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
     * their precision, and the image remembers 16 bits when a sample had more than 8), the alpha
     * band (if any) into the separate alpha plane. Colours are converted to sRGB when the image's
     * colour space is an ICC profile other than sRGB (a TIFF's or a JPEG's embedded profile) or
     * not RGB at all (CMYK).
     */
    public static Image fromBufferedImage(BufferedImage image, String name) throws ImageException {
        int w = image.getWidth(), h = image.getHeight();
        ColorModel cm = image.getColorModel();
        if (cm instanceof IndexColorModel icm) return fromPalette(image, icm);
        int transfer = image.getRaster().getTransferType();
        if (transfer == DataBuffer.TYPE_FLOAT || transfer == DataBuffer.TYPE_DOUBLE) {
            throw new ImageException(name + ": holds floating-point samples; the images read have 8 or 16 bits per sample"
                    + " (convert it first)");
        }
        int bitDepth = 8;
        for (int size : cm.getComponentSize()) if (size > 8) bitDepth = 16;
        ColorSpace cs = cm.getColorSpace();
        int colours = cm.getNumColorComponents();
        boolean rgb = cs.getType() == ColorSpace.TYPE_RGB && colours == 3;
        boolean gray = cs.getType() == ColorSpace.TYPE_GRAY && colours == 1;
        if (!rgb && !gray) {
            BufferedImage srgb = SrgbConversion.toSrgb(image);
            if (srgb == null) {
                throw new ImageException(name + ": is a " + SrgbConversion.name(cs) + " image that cannot be converted to RGB;"
                        + " convert it to RGB first");
            }
            return fromBufferedImage(srgb, name).withBitDepth(bitDepth);
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
        Image out = new Image(colours, h, w, pixels, alpha, bitDepth);
        if (cs instanceof ICC_ColorSpace icc && !isStandard(cs)) out = SrgbConversion.fromProfile(out, icc.getProfile());
        return out;
    }

    /**
     * The JDK's own sRGB and gray: what readers give images without a profile. (Java's gray is
     * linear in name, but readers use it for every gray file, so its values are taken as they are.)
     */
    private static boolean isStandard(ColorSpace cs) {
        if (cs.isCS_sRGB() || cs == ColorSpace.getInstance(ColorSpace.CS_GRAY)) return true;
        if (cs.getType() == ColorSpace.TYPE_GRAY && cs instanceof ICC_ColorSpace icc) {
            return Arrays.equals(icc.getProfile().getData(), ((ICC_ColorSpace) ColorSpace.getInstance(ColorSpace.CS_GRAY)).getProfile().getData());
        }
        return false;
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
                    + "' files" + (IMAGE_EXTENSIONS.contains(ext) ? " (they are read, not written)" : "") + "; use .png, .jpg or .bmp");
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

    /**
     * Writes in the format of the extension: PNG with the image's {@link Image#bitDepth} (16 bits
     * for an image read from a 16-bit file, else 8), JPEG at {@link #DEFAULT_JPEG_QUALITY}, BMP
     * (8 bits).
     */
    public static void write(Path file, Image image) throws ImageException {
        String format = formatOf(file);
        if (format.equals("jpeg")) writeJpeg(file, image, DEFAULT_JPEG_QUALITY);
        else write(file, image, format, format.equals("png") ? image.bitDepth() : 8);
    }

    /** Writes a PNG with 8 or 16 bits per sample and an sRGB chunk (the values are sRGB, see {@link SrgbConversion}). */
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
                if (format.equals("png")) writePngTo(ios, bi);
                else if (!ImageIO.write(bi, format, ios)) throw new IOException("no ImageIO writer for " + format + " takes this image");
            }
        });
    }

    /** PNG bytes in memory, exactly what {@link #write} puts in a .png file: 8 or 16 bits per sample, sRGB and gAMA chunks. */
    public static byte[] encodePng(Image image, int bitDepth) {
        BufferedImage bi = toBufferedImage(image, bitDepth);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writePngTo(out, bi);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("PNG encoding failed: " + e.getMessage(), e);
        }
        return bytes.toByteArray();
    }

    /** A PNG with an sRGB chunk (perceptual intent) and the gAMA of sRGB for decoders that know only gAMA. */
    private static void writePngTo(ImageOutputStream out, BufferedImage image) throws IOException {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        if (!writers.hasNext()) throw new IOException("no ImageIO writer for png");
        ImageWriter writer = writers.next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), param);
            if (metadata != null && !metadata.isReadOnly() && Arrays.asList(metadata.getMetadataFormatNames()).contains(PNG_METADATA)) {
                IIOMetadataNode root = new IIOMetadataNode(PNG_METADATA);
                IIOMetadataNode srgb = new IIOMetadataNode("sRGB");
                srgb.setAttribute("renderingIntent", "Perceptual");
                root.appendChild(srgb);
                IIOMetadataNode gama = new IIOMetadataNode("gAMA");
                gama.setAttribute("value", "45455");
                root.appendChild(gama);
                metadata.mergeTree(PNG_METADATA, root);
            }
            writer.setOutput(out);
            writer.write(null, new IIOImage(image, null, metadata), param);
        } finally {
            writer.dispose();
        }
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
