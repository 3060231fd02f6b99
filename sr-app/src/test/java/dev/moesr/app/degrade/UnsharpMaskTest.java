package dev.moesr.app.degrade;

import dev.moesr.app.testing.Fixture;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class UnsharpMaskTest {

    @Test
    void matchesBasicSrsUsmSharpComputedWithTorch() {
        Fixture f = new Fixture("/degrade_fixture.txt");
        double[] dims = f.doubles("usm_in");
        int c = (int) dims[0], h = (int) dims[1], w = (int) dims[2];
        float[] got = UnsharpMask.sharpen(f.floats("usm_in", 3), c, h, w);
        double[] expected = f.doubles("usm_out");
        int changed = 0;
        float[] in = f.floats("usm_in", 3);
        for (int i = 0; i < got.length; i++) {
            assertEquals(expected[i], got[i], 2e-6, "at " + i);
            if (Math.abs(got[i] - in[i]) > 1e-3) changed++;
        }
        assertTrue(changed > 50, "the fixture's edge is sharpened (" + changed + " values changed)");
    }

    @Test
    void flatImagesAreLeftAlone() {
        float[] flat = new float[3 * 30 * 20];
        java.util.Arrays.fill(flat, 0.4f);
        assertArrayEquals(flat, UnsharpMask.sharpen(flat, 3, 30, 20), 1e-6f);
        // smaller than the 51x51 window: still works (the reflection repeats)
        float[] tiny = {0.1f, 0.9f, 0.1f, 0.9f};
        float[] out = UnsharpMask.sharpen(tiny, 1, 2, 2);
        for (float v : out) assertTrue(v >= 0 && v <= 1);
    }
}
