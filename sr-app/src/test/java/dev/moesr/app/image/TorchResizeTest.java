package dev.moesr.app.image;

import dev.moesr.app.image.TorchResize.Mode;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.app.testing.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Locale;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class TorchResizeTest {

    @Test
    void matchesPyTorchInterpolate() {
        Fixture f = new Fixture("/degrade_fixture.txt");
        double[] in = f.doubles("interp_in");
        int c = (int) in[0], h = (int) in[1], w = (int) in[2];
        float[] img = f.floats("interp_in", 3);
        int cases = 0;
        for (int i = 0; f.has("interp" + i); i++, cases++) {
            String[] t = f.tokens("interp" + i);
            Mode mode = Mode.valueOf(t[0].toUpperCase(Locale.ROOT));
            int oh = Integer.parseInt(t[3]), ow = Integer.parseInt(t[4]);
            float[] got = t[1].equals("scale")
                    ? TorchResize.byScale(img, c, h, w, Double.parseDouble(t[2]), mode)
                    : TorchResize.toSize(img, c, h, w, oh, ow, mode);
            float[] expected = f.floats("interp" + i + "_out", 0);
            assertEquals(c * oh * ow, got.length, "case " + i + " " + String.join(" ", t) + ": output size");
            for (int k = 0; k < got.length; k++) assertEquals(expected[k], got[k], 2e-6, "case " + i + " " + String.join(" ", t) + " at " + k);
        }
        assertEquals(33, cases);
    }

    static Stream<Long> seeds() { return Gen.seeds("torch-resize", 10); }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void constantImagesStayConstantAndScaleOneIsTheIdentity(long seed) {
        Gen cs = new Gen(seed);
        int c = cs.nextInt(1, 3), h = cs.nextInt(1, 20), w = cs.nextInt(1, 20);
        float value = (float) cs.nextDouble(0, 1);
        float[] flat = new float[c * h * w];
        java.util.Arrays.fill(flat, value);
        float[] img = cs.floats(c * h * w, 0, 1);
        for (Mode mode : Mode.values()) {
            int oh = cs.nextInt(1, 25), ow = cs.nextInt(1, 25);
            for (float v : TorchResize.toSize(flat, c, h, w, oh, ow, mode)) assertEquals(value, v, 1e-6, mode + " " + h + "x" + w + " -> " + oh + "x" + ow);
            assertArrayEquals(img, TorchResize.byScale(img, c, h, w, 1.0, mode), 1e-6f, mode + " at scale 1");
            assertArrayEquals(img, TorchResize.toSize(img, c, h, w, h, w, mode), 1e-6f, mode + " to the same size");
        }
    }

    @Test
    void areaAveragesWholeBlocksWhenTheSizesDivide() {
        float[] img = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        assertArrayEquals(new float[] {3.5f, 5.5f, 11.5f, 13.5f}, TorchResize.toSize(img, 1, 4, 4, 2, 2, Mode.AREA), 1e-6f);
    }

    @Test
    void outputSizesFollowPyTorch() {
        assertEquals(3, TorchResize.scaledSize(13, 0.3));
        assertEquals(1, TorchResize.scaledSize(2, 0.3), "never empty");
        assertEquals(17 * 3 / 2, TorchResize.scaledSize(17, 1.5));
        assertEquals(2 * 3 * 4, TorchResize.byScale(new float[2 * 7 * 9], 2, 7, 9, 0.5, Mode.BICUBIC).length);
        assertThrows(IllegalArgumentException.class, () -> TorchResize.byScale(new float[4], 1, 2, 2, 0, Mode.AREA));
        assertThrows(IllegalArgumentException.class, () -> TorchResize.toSize(new float[4], 1, 2, 2, 0, 3, Mode.AREA));
        assertThrows(IllegalArgumentException.class, () -> TorchResize.toSize(new float[5], 1, 2, 2, 1, 1, Mode.AREA));
    }
}
