package dev.moesr.app.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Photos as people have them: EXIF orientation, 16-bit samples, embedded colour profiles and
 * gAMA, WebP, TIFF and CMYK. The fixtures in src/test/resources/images are made by
 * make_fixtures.py there, which also computes the values they must read as (expected.properties,
 * colour-managed references computed in double precision and checked against LittleCMS).
 */
class ImageFilesFormatsTest {
    @TempDir
    Path dir;

    /** Colour tolerance against the references: 2 levels of 8 bits. */
    static final float COLOUR_TOLERANCE = 2f / 255;

    static Path fixture(String name) {
        try {
            return Path.of(ImageFilesFormatsTest.class.getResource("/images/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing fixture " + name + "; run make_fixtures.py", e);
        }
    }

    static final Properties EXPECTED = new Properties();

    static {
        try (InputStream in = ImageFilesFormatsTest.class.getResourceAsStream("/images/expected.properties")) {
            EXPECTED.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The values make_fixtures.py wrote under {@code key}: row-major, channels interleaved. */
    static float[] expected(String key) {
        String v = EXPECTED.getProperty(key);
        assertNotNull(v, "expected.properties has no " + key);
        String[] parts = v.split(",");
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) out[i] = Float.parseFloat(parts[i]);
        return out;
    }

    /** The largest difference between an image and interleaved reference values of the same size. */
    static float maxError(Image img, float[] interleaved) {
        int c = img.channels(), h = img.height(), w = img.width();
        assertEquals(c * h * w, interleaved.length, "reference size for " + img);
        float max = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int k = 0; k < c; k++) max = Math.max(max, Math.abs(img.get(k, y, x) - interleaved[(y * w + x) * c + k]));
            }
        }
        return max;
    }

    /**
     * The largest difference of a 16x16 RGB image made of four flat 8x8 quadrants (top left, top
     * right, bottom left, bottom right) from the quadrant colours given.
     */
    static float quadrantError(Image img, float[] quadrants) {
        assertEquals(16, img.width());
        assertEquals(16, img.height());
        assertEquals(3, img.channels());
        float max = 0;
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                int q = (y / 8) * 2 + x / 8;
                for (int k = 0; k < 3; k++) max = Math.max(max, Math.abs(img.get(k, y, x) - quadrants[q * 3 + k]));
            }
        }
        return max;
    }

    // ------------------------------------------------------------------ orientation

    @Test
    void everyExifOrientationOfAJpegIsShownUpright() throws IOException {
        float[] pattern = expected("pattern");
        for (int o = 1; o <= 8; o++) {
            Path f = fixture("orient-" + o + ".jpg");
            BufferedImage stored = ImageIO.read(f.toFile());
            assertEquals(o >= 5 ? 6 : 8, stored.getWidth(), "orientation " + o + " is stored " + (o >= 5 ? "on its side" : "upright"));
            Image img = ImageFiles.read(f);
            assertEquals(8, img.width(), "orientation " + o);
            assertEquals(6, img.height(), "orientation " + o);
            assertEquals(8, img.bitDepth());
            // quadrants red, green / blue, white: JPEG at quality 100 (4:4:4) keeps them to within 3 levels at their edges
            float err = maxError(img, pattern);
            assertTrue(err <= 4f / 255, "orientation " + o + ": max error " + err * 255 + " levels against the upright pattern");
        }
    }

    @Test
    void orientationIsAppliedForPngExifTiffAndWebpToo() throws IOException {
        float[] pattern = expected("pattern");
        for (String name : new String[] {"orient-6.png", "orient-6.tif", "orient-6.webp"}) {
            Image img = ImageFiles.read(fixture(name));
            assertEquals(8, img.width(), name);
            assertEquals(6, img.height(), name);
            assertEquals(8, img.bitDepth(), name);
            assertEquals(0f, maxError(img, pattern), 1e-6f, name + " is lossless: exactly the pattern, turned upright");
        }
    }

    // ------------------------------------------------------------------ 16 bits

    @Test
    void sixteenBitFilesAreReadAtFullPrecisionAndRemembered() throws IOException {
        Image png = ImageFiles.read(fixture("gradient16.png"));
        assertEquals(16, png.bitDepth());
        assertEquals(64, png.width());
        assertEquals(0f, maxError(png, expected("gradient16")), 0.5f / 65535);
        Image gray = ImageFiles.read(fixture("gray16.png"));
        assertEquals(16, gray.bitDepth());
        assertEquals(1, gray.channels());
        assertEquals(0f, maxError(gray, expected("gray16")), 0.5f / 65535);
        Image tif = ImageFiles.read(fixture("gradient16.tif"));
        assertEquals(16, tif.bitDepth());
        assertEquals(0f, maxError(tif, expected("gradient16")), 0.5f / 65535);
        assertEquals(8, ImageFiles.read(fixture("pattern.tif")).bitDepth());
        assertEquals(8, ImageFiles.read(fixture("orient-1.jpg")).bitDepth());
    }

    @Test
    void sixteenBitInIsSixteenBitOut() throws IOException {
        Image src = ImageFiles.read(fixture("gradient16.png"));
        // a derived image keeps the depth; a crop of a 16-bit image is written as 16 bits
        Path out = dir.resolve("out.png");
        ImageFiles.write(out, src);
        assertEquals(16, pngBitDepth(out));
        Image back = ImageFiles.read(out);
        assertEquals(16, back.bitDepth());
        float err = 0;
        for (int i = 0; i < src.pixels().length; i++) err = Math.max(err, Math.abs(back.pixels()[i] - src.pixels()[i]));
        assertTrue(err < 1.5f / 65535, "16-bit round trip, max error " + err * 65535 + " of 65535");
        // all 64 levels of the red ramp (3/65535 apart, within one 8-bit step or two) survive
        assertEquals(64, distinctLevels(back, 0, 0));

        Path crop = dir.resolve("crop.png");
        ImageFiles.write(crop, src.crop(0, 0, 2, 10).flipHorizontal());
        assertEquals(16, pngBitDepth(crop));
        Path tiff = dir.resolve("from-tiff.png");
        ImageFiles.write(tiff, ImageFiles.read(fixture("gradient16.tif")));
        assertEquals(16, pngBitDepth(tiff));

        // 8 bits in, 8 bits out; withBitDepth lets a caller carry the depth to a fresh image
        ImageFiles.write(out, ImageFiles.read(fixture("pattern.tif")));
        assertEquals(8, pngBitDepth(out));
        Image fresh = new Image(3, 2, 64, src.pixels().clone());
        ImageFiles.write(out, fresh);
        assertEquals(8, pngBitDepth(out));
        assertTrue(distinctLevels(ImageFiles.read(out), 0, 0) <= 2, "at 8 bits the red ramp keeps one or two levels");
        ImageFiles.write(out, fresh.withBitDepth(src.bitDepth()));
        assertEquals(16, pngBitDepth(out));
        assertEquals(64, distinctLevels(ImageFiles.read(out), 0, 0));
    }

    private static int distinctLevels(Image img, int channel, int row) {
        java.util.Set<Float> levels = new java.util.HashSet<>();
        for (int x = 0; x < img.width(); x++) levels.add(img.get(channel, row, x));
        return levels.size();
    }

    /** The bit depth in a PNG's IHDR. */
    static int pngBitDepth(Path png) throws IOException {
        byte[] b = Files.readAllBytes(png);
        assertEquals("IHDR", new String(b, 12, 4, StandardCharsets.ISO_8859_1));
        return b[24];
    }

    /** The chunk types of a PNG in file order. */
    static List<String> pngChunks(Path png) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(png));
        List<String> chunks = new ArrayList<>();
        int at = 8;
        while (at + 8 <= b.limit()) {
            int length = b.getInt(at);
            chunks.add(new String(b.array(), at + 4, 4, StandardCharsets.ISO_8859_1));
            at += 12 + length;
        }
        return chunks;
    }

    // ------------------------------------------------------------------ colour

    @Test
    void displayP3IsConvertedToSrgbInEveryFormat() throws IOException {
        float[] raw = expected("p3.raw"), srgb = expected("p3.srgb");
        // the conversion is no rounding matter: the stored values are far from the sRGB ones
        float shift = 0;
        for (int i = 0; i < raw.length; i++) shift = Math.max(shift, Math.abs(raw[i] - srgb[i]));
        assertTrue(shift > 10f / 255, "P3 and sRGB values differ by " + shift * 255 + " levels");

        Image png = ImageFiles.read(fixture("p3.png"));
        assertEquals(8, png.bitDepth(), "an 8-bit file stays 8-bit after conversion");
        assertEquals(0f, quadrantError(png, srgb), COLOUR_TOLERANCE, "PNG with an iCCP Display-P3 profile");
        Image jpeg = ImageFiles.read(fixture("p3.jpg"));
        assertEquals(0f, quadrantError(jpeg, expected("p3-jpeg.srgb")), COLOUR_TOLERANCE, "JPEG with an APP2 Display-P3 profile");
        assertEquals(0f, quadrantError(ImageFiles.read(fixture("p3.webp")), srgb), COLOUR_TOLERANCE, "WebP with an ICCP chunk");
        assertEquals(0f, quadrantError(ImageFiles.read(fixture("p3.tif")), srgb), COLOUR_TOLERANCE, "TIFF with an ICC tag");
        // PNG and JPEG of the same colours agree (up to the JPEG's own rounding of a level or so)
        float apart = 0;
        for (int i = 0; i < png.pixels().length; i++) apart = Math.max(apart, Math.abs(png.pixels()[i] - jpeg.pixels()[i]));
        assertTrue(apart < 3f / 255, "PNG and JPEG of the same P3 colours differ by " + apart * 255 + " levels");
    }

    @Test
    void theRuleHoldsWithTheJdksOwnJpegReader() throws IOException {
        ImageReader jdk = jdkJpegReader();
        Image jpeg = ImageFiles.decode(Files.readAllBytes(fixture("p3.jpg")), "p3.jpg", ImageFiles.DEFAULT_MAX_PIXELS, jdk);
        assertEquals(0f, quadrantError(jpeg, expected("p3-jpeg.srgb")), COLOUR_TOLERANCE);
        Image upright = ImageFiles.decode(Files.readAllBytes(fixture("orient-6.jpg")), "orient-6.jpg", ImageFiles.DEFAULT_MAX_PIXELS,
                jdkJpegReader());
        assertEquals(8, upright.width());
    }

    @Test
    void pngGammaOtherThanSrgbsIsReencodedAndSrgbsIsKept() throws IOException {
        Image g18 = ImageFiles.read(fixture("gamma18.png"));
        assertEquals(0f, maxError(g18, expected("gamma18.srgb")), 0.5f / 255, "gAMA 1/1.8");
        Image gray = ImageFiles.read(fixture("gamma18-gray.png"));
        assertEquals(1, gray.channels());
        assertEquals(0f, maxError(gray, expected("gamma18-gray.srgb")), 0.5f / 255, "gray gAMA 1/1.8");
        float[] raw = expected("gamma.raw");
        assertTrue(maxError(g18, raw) > 10f / 255, "gAMA 1/1.8 makes a visible difference");
        assertEquals(0f, maxError(ImageFiles.read(fixture("gamma22.png")), raw), 1e-6f, "gAMA 1/2.2 is sRGB's: the values as stored");
    }

    @Test
    void writtenPngsSaySrgbAndReadBackUnchanged() throws IOException {
        Image p3 = ImageFiles.read(fixture("p3.png"));
        Path out = dir.resolve("srgb.png");
        ImageFiles.write(out, p3);
        List<String> chunks = pngChunks(out);
        assertTrue(chunks.contains("sRGB"), "chunks " + chunks);
        assertFalse(chunks.contains("iCCP"), "chunks " + chunks);
        assertTrue(chunks.indexOf("sRGB") < chunks.indexOf("IDAT"), "chunks " + chunks);
        // read as it is: the converted values back to within the 8-bit rounding of the write
        Image back = ImageFiles.read(out);
        for (int i = 0; i < p3.pixels().length; i++) assertEquals(p3.pixels()[i], back.pixels()[i], 0.5f / 255 + 1e-6f);
        Image gray = new Image(1, 2, 3, new float[] {0, 0.2f, 0.4f, 0.6f, 0.8f, 1});
        ImageFiles.writePng(out, gray, 16);
        assertTrue(pngChunks(out).contains("sRGB"));
        assertArrayEquals(gray.pixels(), ImageFiles.read(out).pixels(), 1e-6f);
    }

    // ------------------------------------------------------------------ WebP, TIFF, CMYK

    @Test
    void webpAndTiffAreRead() throws IOException {
        float[] pattern = expected("pattern");
        for (String name : new String[] {"pattern.webp", "pattern.tif", "pattern-lzw.tif"}) {
            Image img = ImageFiles.read(fixture(name));
            assertEquals(8, img.width(), name);
            assertEquals(6, img.height(), name);
            assertEquals(3, img.channels(), name);
            assertEquals(8, img.bitDepth(), name);
            assertFalse(img.hasAlpha(), name);
            assertEquals(0f, maxError(img, pattern), 1e-6f, name);
        }
        Image alpha = ImageFiles.read(fixture("pattern-alpha.webp"));
        assertTrue(alpha.hasAlpha());
        assertArrayEquals(expected("pattern-alpha.alpha"), alpha.alpha(), 1e-6f);
        // the colour under a fully transparent pixel is kept too (lossless, exact)
        assertEquals(0f, maxError(alpha, pattern), 1e-6f);
    }

    @Test
    void cmykJpegAndTiffAreConvertedToRgb() throws IOException {
        for (String name : new String[] {"cmyk.jpg", "cmyk.tif"}) {
            Image img = ImageFiles.read(fixture(name));
            assertEquals(3, img.channels(), name);
            assertEquals(16, img.width(), name);
            // without a profile in the file the plugins use a generic CMYK: the colours are checked for what they are
            float[] white = mean(img, 0, 0), black = mean(img, 0, 8), cyan = mean(img, 8, 0), red = mean(img, 8, 8);
            String m = name + ": white " + str(white) + ", black " + str(black) + ", cyan " + str(cyan) + ", red " + str(red);
            assertTrue(min(white) > 0.9f, m);
            assertTrue(max(black) < 0.35f, m);
            assertTrue(cyan[0] < 0.35f && cyan[1] > 0.5f && cyan[2] > 0.7f, m);
            assertTrue(red[0] > 0.75f && red[1] < 0.35f && red[2] < 0.35f, m);
        }
    }

    private static float[] mean(Image img, int top, int left) {
        float[] m = new float[3];
        for (int k = 0; k < 3; k++) {
            for (int y = top; y < top + 8; y++) for (int x = left; x < left + 8; x++) m[k] += img.get(k, y, x) / 64;
        }
        return m;
    }

    private static float min(float[] v) { return Math.min(v[0], Math.min(v[1], v[2])); }

    private static float max(float[] v) { return Math.max(v[0], Math.max(v[1], v[2])); }

    private static String str(float[] v) { return String.format("(%.3f, %.3f, %.3f)", v[0], v[1], v[2]); }

    /** The JDK's JPEG reader, as when the TwelveMonkeys plugin is not on the class path. */
    private static ImageReader jdkJpegReader() {
        Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName("jpeg");
        while (it.hasNext()) {
            ImageReader r = it.next();
            if (r.getClass().getName().startsWith("com.sun.imageio.")) return r;
        }
        throw new AssertionError("no JDK JPEG reader");
    }

    // ------------------------------------------------------------------ refusals, one line each

    @Test
    void refusalsAreOneLineInPlainWords() throws IOException {
        Path cmyk = fixture("cmyk.jpg");
        String m = assertThrows(ImageException.class,
                () -> ImageFiles.decode(Files.readAllBytes(cmyk), "cmyk.jpg", ImageFiles.DEFAULT_MAX_PIXELS, jdkJpegReader())).getMessage();
        assertEquals("cmyk.jpg: is a CMYK JPEG; convert it to RGB first", m);

        Image rgb = new Image(3, 2, 2, new float[12]);
        for (String ext : new String[] {"webp", "tif", "tiff"}) {
            m = assertThrows(ImageException.class, () -> ImageFiles.write(dir.resolve("a." + ext), rgb)).getMessage();
            assertTrue(m.endsWith("a." + ext + ": cannot write '" + ext + "' files (they are read, not written); use .png, .jpg or .bmp"), m);
        }
        m = assertThrows(ImageException.class, () -> ImageFiles.write(dir.resolve("a.gif"), rgb)).getMessage();
        assertTrue(m.endsWith("a.gif: cannot write 'gif' files; use .png, .jpg or .bmp"), m);

        BufferedImage gif = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
        Path g = dir.resolve("a.gif");
        ImageIO.write(gif, "gif", g.toFile());
        m = assertThrows(ImageException.class, () -> ImageFiles.read(g)).getMessage();
        assertTrue(m.endsWith("a.gif: is a GIF image; the formats read are PNG, JPEG, BMP, WebP and TIFF (convert it first)"), m);

        // a colour space the colour management cannot convert is named in words, never "type 9"
        ComponentColorModel cm = new ComponentColorModel(new UnconvertibleCmyk(), false, false, Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
        BufferedImage odd = new BufferedImage(cm, cm.createCompatibleWritableRaster(2, 2), false, null);
        m = assertThrows(ImageException.class, () -> ImageFiles.fromBufferedImage(odd, "odd.tif")).getMessage();
        assertEquals("odd.tif: is a CMYK image that cannot be converted to RGB; convert it to RGB first", m);

        ComponentColorModel floats = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), false, false, Transparency.OPAQUE,
                DataBuffer.TYPE_FLOAT);
        BufferedImage hdr = new BufferedImage(floats, floats.createCompatibleWritableRaster(2, 2), false, null);
        m = assertThrows(ImageException.class, () -> ImageFiles.fromBufferedImage(hdr, "hdr.tif")).getMessage();
        assertEquals("hdr.tif: holds floating-point samples; the images read have 8 or 16 bits per sample (convert it first)", m);
        for (String s : new String[] {m}) assertFalse(s.contains("\n"));
    }

    /** A CMYK colour space that refuses every conversion. */
    private static final class UnconvertibleCmyk extends ColorSpace {
        UnconvertibleCmyk() { super(ColorSpace.TYPE_CMYK, 4); }

        @Override public float[] toRGB(float[] v) { throw new UnsupportedOperationException("no"); }

        @Override public float[] fromRGB(float[] v) { throw new UnsupportedOperationException("no"); }

        @Override public float[] toCIEXYZ(float[] v) { throw new UnsupportedOperationException("no"); }

        @Override public float[] fromCIEXYZ(float[] v) { throw new UnsupportedOperationException("no"); }
    }

    @Test
    void damagedMetadataDoesNotStopAPhoto() throws IOException {
        // EXIF whose first IFD claims 65535 entries in a 34-byte segment: read as stored, orientation 1
        byte[] jpeg = Files.readAllBytes(fixture("orient-6.jpg"));
        int app1 = indexOf(jpeg, "Exif".getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(app1 > 0);
        byte[] broken = jpeg.clone();
        // the TIFF header follows "Exif\0\0": byte order (2), 42 (2), the IFD0 offset (4, here 8), then IFD0's entry count
        assertEquals(8, ByteBuffer.wrap(broken).getInt(app1 + 6 + 4), "a big-endian EXIF block with IFD0 right after its header");
        ByteBuffer.wrap(broken).putShort(app1 + 6 + 8, (short) 0xFFFF);
        Image img = ImageFiles.decode(broken, "broken-exif.jpg", ImageFiles.DEFAULT_MAX_PIXELS);
        assertEquals(6, img.width(), "the pixels as stored");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}
