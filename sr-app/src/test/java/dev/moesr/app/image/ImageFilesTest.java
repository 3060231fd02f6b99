package dev.moesr.app.image;

import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

import static org.junit.jupiter.api.Assertions.*;

class ImageFilesTest {
    @TempDir
    Path dir;

    /** An image whose values are exact 8-bit levels, so 8-bit files hold them without loss. */
    static Image levels(int channels, int h, int w, boolean alpha, long seed) {
        Gen c = new Gen(seed);
        float[] px = new float[channels * h * w];
        for (int i = 0; i < px.length; i++) px[i] = c.nextInt(0, 255) / 255f;
        float[] a = null;
        if (alpha) {
            a = new float[h * w];
            for (int i = 0; i < a.length; i++) a[i] = c.nextInt(0, 255) / 255f;
        }
        return new Image(channels, h, w, px, a);
    }

    @Test
    void pngRoundTripsKeepGrayRgbAndAlphaApart() throws IOException {
        int seed = 0;
        for (int channels : new int[] {1, 3}) {
            for (boolean alpha : new boolean[] {false, true}) {
                Image img = levels(channels, 7, 9, alpha, seed++);
                Path f = dir.resolve("c" + channels + "a" + alpha + ".png");
                ImageFiles.write(f, img);
                Image back = ImageFiles.read(f);
                assertTrue(back.sameAs(img), "PNG " + img + " came back as " + back);
            }
        }
    }

    @Test
    void sixteenBitPngKeepsSixteenBitPrecision() throws IOException {
        Gen c = new Gen(5);
        float[] px = new float[3 * 4 * 5];
        for (int i = 0; i < px.length; i++) px[i] = c.nextInt(0, 65535) / 65535f;
        float[] alpha = new float[20];
        for (int i = 0; i < 20; i++) alpha[i] = c.nextInt(0, 65535) / 65535f;
        Image img = new Image(3, 4, 5, px, alpha);
        Path f = dir.resolve("deep.png");
        ImageFiles.writePng(f, img, 16);
        Image back = ImageFiles.read(f);
        assertArrayEquals(px, back.pixels(), 1e-7f);
        assertArrayEquals(alpha, back.alpha(), 1e-7f);
        // the same image at 8 bits loses what lies between the levels
        ImageFiles.writePng(f, img, 8);
        float maxError = 0;
        float[] eight = ImageFiles.read(f).pixels();
        for (int i = 0; i < px.length; i++) maxError = Math.max(maxError, Math.abs(eight[i] - px[i]));
        assertTrue(maxError > 1e-4 && maxError <= 0.5f / 255 + 1e-6, "8-bit error " + maxError);
        Image gray16 = new Image(1, 2, 2, new float[] {0, 1 / 65535f, 32768 / 65535f, 1});
        ImageFiles.writePng(f, gray16, 16);
        assertArrayEquals(gray16.pixels(), ImageFiles.read(f).pixels(), 1e-9f);
    }

    @Test
    void bmpRoundTripIsExactAndJpegIsClose() throws IOException {
        Image img = levels(3, 16, 24, false, 11);
        Path bmp = dir.resolve("a.bmp");
        ImageFiles.write(bmp, img);
        assertTrue(ImageFiles.read(bmp).sameAs(img));
        Image gray = levels(1, 5, 3, false, 12);
        ImageFiles.write(dir.resolve("g.bmp"), gray);
        assertTrue(ImageFiles.read(dir.resolve("g.bmp")).sameAs(gray));

        float[] smooth = new float[3 * 32 * 32];
        for (int c = 0; c < 3; c++) for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) smooth[(c * 32 + y) * 32 + x] = (x + y + 10 * c) / 100f;
        Path jpg = dir.resolve("a.jpg");
        ImageFiles.write(jpg, new Image(3, 32, 32, smooth));
        Image back = ImageFiles.read(jpg);
        assertEquals(3, back.channels());
        double err = 0;
        for (int i = 0; i < smooth.length; i++) err = Math.max(err, Math.abs(back.pixels()[i] - smooth[i]));
        assertTrue(err < 0.03, "JPEG at quality 95 of a smooth ramp, max error " + err);
    }

    @Test
    void paletteImagesAreReadThroughTheirPalette() throws IOException {
        byte[] r = {0, (byte) 255, 10}, g = {0, 0, 20}, b = {0, 0, (byte) 200};
        BufferedImage colour = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(2, 3, r, g, b));
        colour.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {0, 1, 2});
        Path f = dir.resolve("palette.png");
        ImageIO.write(colour, "png", f.toFile());
        Image img = ImageFiles.read(f);
        assertEquals(3, img.channels());
        assertArrayEquals(new float[] {0, 1, 10 / 255f, 0, 0, 20 / 255f, 0, 0, 200 / 255f}, img.pixels(), 1e-7f);
        assertFalse(img.hasAlpha());

        BufferedImage binary = new BufferedImage(4, 1, BufferedImage.TYPE_BYTE_BINARY);
        binary.getRaster().setSamples(0, 0, 4, 1, 0, new int[] {0, 1, 1, 0});
        ImageIO.write(binary, "png", f.toFile());
        Image bw = ImageFiles.read(f);
        assertEquals(1, bw.channels(), "a black-and-white palette is gray");
        assertArrayEquals(new float[] {0, 1, 1, 0}, bw.pixels());
    }

    @Test
    void writesAreAtomicAndLeaveNoTemporaryFiles() throws IOException {
        Path f = dir.resolve("out.png");
        Image first = levels(3, 4, 4, false, 1), second = levels(3, 4, 4, false, 2);
        ImageFiles.write(f, first);
        ImageFiles.write(f, second);
        assertTrue(ImageFiles.read(f).sameAs(second), "the second write replaced the first");

        float[] nan = second.pixels().clone();
        nan[5] = Float.NaN;
        var e = assertThrows(ImageException.class, () -> ImageFiles.write(f, new Image(3, 4, 4, nan)));
        assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("out.png"), e.getMessage());
        assertTrue(ImageFiles.read(f).sameAs(second), "a failed write leaves the old file as it was");

        e = assertThrows(ImageException.class, () -> ImageFiles.write(dir.resolve("missing/out.png"), first));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only out.png is left, no temporary file");
        }
    }

    @Test
    void formatsThatCannotHoldTheImageAreRefused() {
        Image rgba = levels(3, 2, 2, true, 3);
        var e = assertThrows(ImageException.class, () -> ImageFiles.write(dir.resolve("a.jpg"), rgba));
        assertTrue(e.getMessage().contains("alpha"), e.getMessage());
        assertThrows(ImageException.class, () -> ImageFiles.write(dir.resolve("a.bmp"), rgba));
        e = assertThrows(ImageException.class, () -> ImageFiles.write(dir.resolve("a.tiff"), rgba));
        assertTrue(e.getMessage().contains(".png"), e.getMessage());
        assertThrows(ImageException.class, () -> ImageFiles.write(dir.resolve("noextension"), rgba));
        assertThrows(IllegalArgumentException.class, () -> ImageFiles.toBufferedImage(rgba, 12));
    }

    private static String readError(Path f) {
        return assertThrows(ImageException.class, () -> ImageFiles.read(f)).getMessage();
    }

    @Test
    void unreadableFilesGetOneLineErrorsNamingTheFile() throws IOException {
        String m = readError(dir.resolve("nothere.png"));
        assertTrue(m.contains("nothere.png") && m.contains("no such file"), m);

        Path empty = Files.createFile(dir.resolve("empty.png"));
        assertTrue(readError(empty).contains("empty (0 bytes)"));

        Path text = Files.writeString(dir.resolve("text.png"), "this is not an image at all");
        m = readError(text);
        assertTrue(m.contains("not an image"), m);

        assertTrue(readError(dir).contains("folder"));

        BufferedImage bi = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        Path gif = dir.resolve("a.gif");
        ImageIO.write(bi, "gif", gif.toFile());
        m = readError(gif);
        assertTrue(m.contains("GIF") && m.contains("PNG, JPEG, BMP, WebP and TIFF"), m);
        for (String e : new String[] {m}) assertFalse(e.contains("\n"));
    }

    @Test
    void truncatedFilesAreDetectedInEveryFormat() throws IOException {
        Image img = levels(3, 64, 64, false, 9);
        for (String ext : new String[] {"png", "jpg", "bmp"}) {
            Path f = dir.resolve("whole." + ext);
            ImageFiles.write(f, img);
            byte[] bytes = Files.readAllBytes(f);
            Path cut = dir.resolve("cut." + ext);
            Files.write(cut, Arrays.copyOf(bytes, bytes.length * 6 / 10));
            String m = readError(cut);
            assertTrue(m.contains("cut." + ext) && m.contains("truncated"), ext + ": " + m);
            assertFalse(m.contains("\n"), m);
        }
    }

    /** A PNG file of the given size with a 1-byte gray scanline per row (width 0 makes an empty image). */
    static byte[] rawPng(int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        byte[] raw = new byte[height * (1 + width)];
        Deflater d = new Deflater();
        d.setInput(raw);
        d.finish();
        byte[] buf = new byte[raw.length + 64];
        int n = d.deflate(buf);
        chunk(out, "IDAT", Arrays.copyOf(buf, n));
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void emptyAndHugeImagesAreHandledClearly() throws IOException {
        Path zero = Files.write(dir.resolve("zero.png"), rawPng(0, 5));
        String m = readError(zero);
        assertTrue(m.contains("zero.png") && m.contains("has no pixels"), m);

        // 100k pixels wide, one row: readable, and refused under a smaller limit
        Path wide = Files.write(dir.resolve("wide.png"), rawPng(100_000, 1));
        Image img = ImageFiles.read(wide);
        assertEquals(100_000, img.width());
        assertEquals(1, img.height());
        m = assertThrows(ImageException.class, () -> ImageFiles.read(wide, 50_000)).getMessage();
        assertTrue(m.contains("100000x1") && m.contains("limit of 50000") && m.contains("--max-pixels"), m);
    }
}
