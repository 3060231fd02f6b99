package dev.moesr.app.metrics;

import dev.moesr.app.image.Image;
import dev.moesr.app.testing.Fixture;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static dev.moesr.app.metrics.FullReferenceTest.resourceImage;
import static org.junit.jupiter.api.Assertions.*;

class NiqeTest {
    private final Fixture fixture = new Fixture("/metrics/metrics.txt");

    @Test
    void matchesTheIndependentNumpyImplementation() throws Exception {
        int checked = 0;
        for (int i = 0; fixture.has("niqe" + i); i++, checked++) {
            String[] t = fixture.tokens("niqe" + i);
            Image image = resourceImage(t[0]);
            double got = Niqe.standard().score(image, Integer.parseInt(t[1]));
            assertEquals(Double.parseDouble(t[2]), got, 1e-9 * Math.max(1, Math.abs(got)), t[0]);
        }
        assertEquals(3, checked);
    }

    @Test
    void blockFeaturesMatchIncludingTheNaNsOfOneSidedBlocks() {
        for (int b = 0; b < 2; b++) {
            double[] in = fixture.doubles("block" + b + "_in");
            int h = (int) in[0], w = (int) in[1];
            double[] block = java.util.Arrays.copyOfRange(in, 2, in.length);
            double[] expected = fixture.doubles("block" + b + "_features");
            double[] got = Niqe.blockFeatures(block, h, w);
            assertEquals(Niqe.FEATURES, got.length);
            for (int i = 0; i < expected.length; i++) {
                if (Double.isNaN(expected[i])) assertTrue(Double.isNaN(got[i]), "block " + b + " feature " + i + " should be NaN, is " + got[i]);
                else assertEquals(expected[i], got[i], 1e-12 * Math.max(1, Math.abs(expected[i])), "block " + b + " feature " + i);
            }
        }
    }

    @Test
    void theBundledParametersHaveTheDocumentedShapes() throws IOException {
        try (var in = Niqe.class.getResourceAsStream("niqe_pris_params.npz")) {
            Map<String, Npz.Array> a = Npz.read(in, "niqe_pris_params.npz");
            assertArrayEquals(new int[] {1, 36}, a.get("mu_pris_param").shape());
            assertArrayEquals(new int[] {36, 36}, a.get("cov_pris_param").shape());
            assertArrayEquals(new int[] {7, 7}, a.get("gaussian_window").shape());
            double sum = 0;
            for (double v : a.get("gaussian_window").values()) sum += v;
            assertEquals(1.0, sum, 1e-6, "the window is normalised");
            double[][] cov = a.get("cov_pris_param").matrix();
            for (int i = 0; i < 36; i++) for (int j = 0; j < 36; j++) assertEquals(cov[i][j], cov[j][i], 1e-12);
        }
    }

    @Test
    void smallAndFlatImagesAreRefusedWithAReason() {
        Image small = new Image(1, 95, 300, new float[95 * 300]);
        var e = assertThrows(IllegalArgumentException.class, () -> Niqe.standard().score(small, 0));
        assertTrue(e.getMessage().contains("two 96x96 blocks") && e.getMessage().contains("300x95"), e.getMessage());
        float[] flat = new float[192 * 96];
        java.util.Arrays.fill(flat, 0.5f);
        e = assertThrows(IllegalArgumentException.class, () -> Niqe.standard().score(new Image(1, 96, 192, flat), 0));
        assertTrue(e.getMessage().contains("flat"), e.getMessage());
    }

    // ---- the npy reader ----

    /** A version-1 .npy file of the given header dict and raw data. */
    static byte[] npy(String dict, byte[] data, int version) {
        String header = dict;
        int pre = version == 1 ? 10 : 12;
        int total = pre + header.length() + 1;
        header = header + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(pre + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) version).put((byte) 0);
        if (version == 1) b.putShort((short) header.length());
        else b.putInt(header.length());
        b.put(header.getBytes(StandardCharsets.ISO_8859_1)).put(data);
        return b.array();
    }

    @Test
    void npyFortranOrderIsTransposedIntoRowMajor() throws IOException {
        // the 2x3 array [[1,2,3],[4,5,6]] stored column by column: 1 4 2 5 3 6
        ByteBuffer d = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : new double[] {1, 4, 2, 5, 3, 6}) d.putDouble(v);
        Npz.Array a = Npz.readNpy(npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", d.array(), 1), "t");
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, a.values());
        assertEquals(6.0, a.get(1, 2));
    }

    @Test
    void npyFloat32BigEndianAndVersion2() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(12).order(ByteOrder.BIG_ENDIAN);
        for (float v : new float[] {1.5f, -2f, 0.25f}) d.putFloat(v);
        Npz.Array a = Npz.readNpy(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", d.array(), 2), "t");
        assertArrayEquals(new int[] {3}, a.shape());
        assertArrayEquals(new double[] {1.5, -2, 0.25}, a.values());
    }

    @Test
    void badNpyAndNpzFilesGetClearErrors() throws IOException {
        var e = assertThrows(IOException.class, () -> Npz.readNpy("not numpy".getBytes(StandardCharsets.UTF_8), "x.npy"));
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
        byte[] ints = npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", new byte[8], 1);
        e = assertThrows(IOException.class, () -> Npz.readNpy(ints, "x.npy"));
        assertTrue(e.getMessage().contains("float32 or float64"), e.getMessage());
        byte[] cut = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", new byte[16], 1);
        e = assertThrows(IOException.class, () -> Npz.readNpy(cut, "x.npy"));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        ByteArrayOutputStream empty = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(empty)) {
            z.putNextEntry(new ZipEntry("folder/"));
            z.closeEntry();
        }
        e = assertThrows(IOException.class, () -> Npz.read(new ByteArrayInputStream(empty.toByteArray()), "e.npz"));
        assertTrue(e.getMessage().contains("no arrays"), e.getMessage());
    }

    @Test
    void missingParametersAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> Niqe.fromNpz(Map.of()));
        assertTrue(e.getMessage().contains("mu_pris_param"), e.getMessage());
    }
}
