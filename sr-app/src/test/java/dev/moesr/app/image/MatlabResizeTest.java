package dev.moesr.app.image;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class MatlabResizeTest {

    @Test
    void matchesTheIndependentNumpyImplementation() throws IOException {
        Map<String, String[]> f = new HashMap<>();
        try (InputStream in = getClass().getResourceAsStream("/matlab_resize_fixture.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] p = line.trim().split(" ");
                f.put(p[0], p);
            }
        }
        int cases = 0;
        for (int i = 0; f.containsKey("case" + i); i++, cases++) {
            String[] head = f.get("case" + i);
            int c = Integer.parseInt(head[1]), h = Integer.parseInt(head[2]), w = Integer.parseInt(head[3]);
            double scale = Double.parseDouble(head[4]);
            int oh = Integer.parseInt(head[5]), ow = Integer.parseInt(head[6]);
            float[] img = floats(f.get("case" + i + "_in"));
            float[] expected = floats(f.get("case" + i + "_out"));
            float[] got = MatlabResize.resize(img, c, h, w, scale);
            assertEquals(c * oh * ow, got.length, "case " + i + " output size");
            for (int k = 0; k < got.length; k++) assertEquals(expected[k], got[k], 1e-5, "case " + i + " at " + k);
        }
        assertTrue(cases >= 6, "fixture cases read: " + cases);
    }

    @Test
    void aRegionIsTheSameValuesAsTheWholeResizeBitForBit() {
        java.util.Random r = new java.util.Random(11);
        for (int t = 0; t < 60; t++) {
            int c = 1 + r.nextInt(3), h = 1 + r.nextInt(12), w = 1 + r.nextInt(12);
            // up and down, equal and unequal scales (which changes the pass order)
            int outH = 1 + r.nextInt(4 * h + 2), outW = r.nextBoolean() ? Math.max(1, outH * w / h) : 1 + r.nextInt(4 * w + 2);
            float[] img = new float[c * h * w];
            for (int k = 0; k < img.length; k++) img[k] = r.nextFloat() * 2 - 1;
            float[] whole = MatlabResize.resizeTo(img, c, h, w, outH, outW);
            int y0 = r.nextInt(outH), y1 = y0 + 1 + r.nextInt(outH - y0), x0 = r.nextInt(outW), x1 = x0 + 1 + r.nextInt(outW - x0);
            float[] region = MatlabResize.resizeRegion(img, c, h, w, outH, outW, y0, y1, x0, x1);
            float[] expected = new float[c * (y1 - y0) * (x1 - x0)];
            for (int ch = 0; ch < c; ch++) {
                for (int y = y0; y < y1; y++) {
                    System.arraycopy(whole, (ch * outH + y) * outW + x0, expected, (ch * (y1 - y0) + y - y0) * (x1 - x0), x1 - x0);
                }
            }
            String what = c + "x" + h + "x" + w + " -> " + outH + "x" + outW + ", rows [" + y0 + ", " + y1 + ") columns [" + x0 + ", " + x1 + ")";
            assertArrayEquals(expected, region, what);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> MatlabResize.resizeRegion(new float[4], 1, 2, 2, 8, 8, 0, 9, 0, 8));
        assertTrue(e.getMessage().contains("not inside"), e.getMessage());
    }

    private static float[] floats(String[] p) {
        float[] v = new float[p.length - 1];
        for (int i = 1; i < p.length; i++) v[i - 1] = (float) Double.parseDouble(p[i]);
        return v;
    }

    @Test
    void constantImagesStayConstant() {
        float[] img = new float[3 * 10 * 12];
        java.util.Arrays.fill(img, 0.625f);
        for (double s : new double[] {0.125, 0.25, 0.5, 2, 4}) {
            for (float v : MatlabResize.resize(img, 3, 10, 12, s)) assertEquals(0.625f, v, 1e-6, "scale " + s);
        }
    }

    @Test
    void outputSizeIsTheCeilingOfInTimesScale() {
        float[] out = MatlabResize.resize(new float[13 * 9], 1, 13, 9, 0.25);
        assertEquals(4 * 3, out.length);
        assertEquals(512 * 512 * 3, MatlabResize.resize(new float[3 * 64 * 64], 3, 64, 64, 8).length);
    }

    @Test
    void mirrorIsSymmetricWithRepeatedEdge() {
        int[] expected = {2, 1, 1, 2, 3, 3, 2};
        for (int p = -1; p <= 5; p++) assertEquals(expected[p + 1], MatlabResize.mirror(p, 3), "position " + p);
    }

    @Test
    void emptyImagesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> MatlabResize.resize(new float[0], 1, 0, 5, 0.5));
        assertThrows(IllegalArgumentException.class, () -> MatlabResize.resize(new float[4], 1, 2, 3, 0.5));
    }
}
