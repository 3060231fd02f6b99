package dev.moesr.app.image;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ImageTest {

    /** An image whose value encodes (channel, y, x) and whose alpha encodes (y, x). */
    static Image coded(int channels, int h, int w, boolean alpha) {
        float[] px = new float[channels * h * w];
        for (int c = 0; c < channels; c++) for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) px[(c * h + y) * w + x] = c * 10000 + y * 100 + x;
        float[] a = null;
        if (alpha) {
            a = new float[h * w];
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) a[y * w + x] = -(y * 100 + x);
        }
        return new Image(channels, h, w, px, a);
    }

    @Test
    void cropTakesTheRectangleOfEveryPlane() {
        Image img = coded(3, 5, 7, true).crop(1, 2, 3, 4);
        assertEquals(3, img.height());
        assertEquals(4, img.width());
        assertEquals(20000 + 300 + 5, img.get(2, 2, 3));
        assertEquals(-(100 + 2), img.alpha()[0]);
        var e = assertThrows(IllegalArgumentException.class, () -> coded(1, 5, 7, false).crop(3, 0, 3, 7));
        assertTrue(e.getMessage().contains("7x5"), e.getMessage());
    }

    @Test
    void flipsAndTransposeMoveAlphaWithTheColour() {
        Image img = coded(3, 3, 4, true);
        Image h = img.flipHorizontal(), v = img.flipVertical(), t = img.transpose();
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 4; x++) {
                    assertEquals(img.get(c, y, x), h.get(c, y, 3 - x));
                    assertEquals(img.get(c, y, x), v.get(c, 2 - y, x));
                    assertEquals(img.get(c, y, x), t.get(c, x, y));
                }
            }
        }
        assertEquals(img.alpha()[1], h.alpha()[2]);
        assertEquals(img.alpha()[1], v.alpha()[2 * 4 + 1]);
        assertEquals(4, t.height());
        assertEquals(img.alpha()[1 * 4 + 2], t.alpha()[2 * 3 + 1]);
        assertTrue(img.flipHorizontal().flipHorizontal().sameAs(img));
        assertTrue(img.transpose().transpose().sameAs(img));
    }

    @Test
    void cropToMultipleCutsTheBottomAndRightEdges() {
        Image img = coded(1, 10, 13, false);
        Image m = img.cropToMultipleOf(4);
        assertEquals(8, m.height());
        assertEquals(12, m.width());
        assertEquals(img.get(0, 7, 11), m.get(0, 7, 11));
        Image exact = coded(1, 8, 12, false);
        assertSame(exact, exact.cropToMultipleOf(4), "nothing to crop: the same image");
        var e = assertThrows(IllegalArgumentException.class, () -> coded(1, 3, 20, false).cropToMultipleOf(4));
        assertTrue(e.getMessage().contains("20x3") && e.getMessage().contains("4"), e.getMessage());
    }

    @Test
    void alphaIsResizedBicubicallyAndClamped() {
        float[] alpha = new float[16 * 16];
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) alpha[y * 16 + x] = x < 8 ? 0f : 1f;   // a hard edge: cubic overshoots
        Image img = new Image(1, 16, 16, new float[256], alpha);
        float[] small = img.resizeAlpha(4, 4);
        float[] unclamped = MatlabResize.resizeTo(alpha, 1, 16, 16, 4, 4);
        boolean overshoots = false;
        for (int i = 0; i < small.length; i++) {
            assertTrue(small[i] >= 0 && small[i] <= 1, "alpha " + small[i]);
            assertEquals(Math.min(1, Math.max(0, unclamped[i])), small[i], 0f);
            overshoots |= unclamped[i] < 0 || unclamped[i] > 1;
        }
        assertTrue(overshoots, "the test edge should make cubic weights overshoot");
        assertNull(new Image(1, 2, 2, new float[4]).resizeAlpha(1, 1));
    }

    @Test
    void invalidImagesAreRefusedWithTheirShape() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Image(2, 3, 3, new float[18]));
        assertTrue(e.getMessage().contains("1 (gray) or 3 (RGB)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Image(3, 2, 2, new float[11]));
        assertTrue(e.getMessage().contains("3x2x2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Image(1, 0, 5, new float[0]));
        assertThrows(IllegalArgumentException.class, () -> new Image(1, 2, 2, new float[4], new float[3]));
    }

    @Test
    void grayToRgbRepeatsThePlane() {
        Image g = coded(1, 2, 3, true).toRgb();
        assertEquals(3, g.channels());
        for (int c = 0; c < 3; c++) assertEquals(102f, g.get(c, 1, 2));
        assertNotNull(g.alpha());
    }

    @Test
    void exifOrientationsAreTheFlipsAndTurnsTheyName() {
        Image img = coded(3, 3, 5, true);
        // each orientation as the composition of the plain operations, in the EXIF standard's words
        Image[] want = {
            null,
            img,                                            // 1: as stored
            img.flipHorizontal(),                           // 2: mirrored left-right
            img.flipHorizontal().flipVertical(),            // 3: turned 180 degrees
            img.flipVertical(),                             // 4: mirrored top-bottom
            img.transpose(),                                // 5: row 0 is the left side, column 0 the top
            img.transpose().flipHorizontal(),               // 6: turned 90 degrees clockwise
            img.transpose().flipHorizontal().flipVertical(), // 7: row 0 is the right side, column 0 the bottom
            img.transpose().flipVertical(),                 // 8: turned 90 degrees anticlockwise
        };
        for (int o = 1; o <= 8; o++) {
            Image got = img.oriented(o);
            assertTrue(got.sameAs(want[o]), "orientation " + o + ": " + got);
            assertEquals(o >= 5 ? 5 : 3, got.height(), "orientation " + o);
        }
        // 6: the stored bottom-left corner is shown at the top left
        assertEquals(img.get(1, 2, 0), img.oriented(6).get(1, 0, 0));
        // 8: the stored top-right corner is shown at the top left
        assertEquals(img.get(1, 0, 4), img.oriented(8).get(1, 0, 0));
        assertSame(img, img.oriented(1));
        assertSame(img, img.oriented(0), "an invalid tag is taken as 1");
        assertSame(img, img.oriented(9));
    }

    @Test
    void bitDepthIsRememberedByEveryDerivedImage() {
        Image deep = new Image(3, 4, 6, new float[72], new float[24], 16);
        assertEquals(16, deep.bitDepth());
        assertEquals(8, new Image(3, 4, 6, new float[72]).bitDepth(), "made in memory: 8 bits");
        assertEquals(8, new Image(3, 4, 6, new float[72], null).bitDepth());
        for (Image d : new Image[] {deep.crop(1, 1, 2, 2), deep.cropToMultipleOf(2), deep.flipHorizontal(), deep.flipVertical(),
                deep.transpose(), deep.oriented(6), deep.clamped(), deep.withoutAlpha(), deep.withAlpha(null)}) {
            assertEquals(16, d.bitDepth(), d.toString());
        }
        assertEquals(16, new Image(1, 2, 2, new float[4], null, 16).toRgb().bitDepth());
        Image eight = deep.withBitDepth(8);
        assertEquals(8, eight.bitDepth());
        assertSame(deep.pixels(), eight.pixels(), "the pixels are shared, not copied");
        assertSame(deep, deep.withBitDepth(16));
        assertTrue(eight.sameAs(deep), "sameAs compares values, not the remembered depth");
        assertEquals("Image[RGB+alpha 6x4 16-bit]", deep.toString());
        assertEquals("Image[RGB+alpha 6x4]", eight.toString());
        var e = assertThrows(IllegalArgumentException.class, () -> deep.withBitDepth(12));
        assertTrue(e.getMessage().contains("8 or 16"), e.getMessage());
    }
}
