package dev.moesr.diffusion.sampling;

import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TiledDenoiserTest {

    @Test
    void tilesCoverTheImageWithTheLastOneFlush() {
        assertArrayEquals(new int[] {0}, Tiles.starts(10, 16, 4));
        assertArrayEquals(new int[] {0, 12, 24}, Tiles.starts(40, 16, 4));
        int[] s = Tiles.starts(41, 16, 4);
        assertEquals(0, s[0]);
        assertEquals(41 - 16, s[s.length - 1]);
        for (int i = 1; i < s.length; i++) assertTrue(s[i] - s[i - 1] <= 12 && s[i] > s[i - 1], "gap between tiles");
    }

    @Test
    void balancedTilesAreAsFewAsTheAskedOnesButEvenlySpread() {
        assertEquals(96, Tiles.balanced(256, 128, 16, 4), "three tiles either way; 96 + 80 + 80 covers 256");
        assertEquals(3, Tiles.starts(256, 96, 16).length);
        assertEquals(72, Tiles.balanced(128, 96, 16, 4), "two tiles of 72 overlapping by 16 cover 128");
        assertEquals(128, Tiles.balanced(100, 128, 32, 4), "one tile: unchanged");
        for (int size = 1; size <= 600; size += 7) {
            for (int tile : new int[] {32, 64, 128}) {
                for (int overlap : new int[] {0, 8, 16}) {
                    int t = Tiles.balanced(size, tile, overlap, 4);
                    assertTrue(t <= tile && t > overlap && t % 4 == 0, size + " " + tile + " " + overlap + " -> " + t);
                    assertTrue(Tiles.starts(size, t, overlap).length <= Tiles.starts(size, tile, overlap).length, "never more tiles");
                    int[] st = Tiles.starts(size, t, overlap);
                    assertTrue(st[st.length - 1] + Math.min(t, size) >= size, "covers the side");
                    long computed = (long) st.length * Math.min(t, size), before = (long) Tiles.starts(size, tile, overlap).length * Math.min(tile, size);
                    assertTrue(computed <= before, "never more pixels computed: " + computed + " > " + before);
                }
            }
        }
    }

    @Test
    void aPointwiseModelGivesTheSameResultTiledOrNot() {
        // per-pixel models do not see tile borders, so blending normalised weights must reproduce them exactly
        Denoiser pointwise = (z, c, t) -> z.mul(0.5f).add(c.mul(0.25f)).add(t * 1e-3f);
        Philox rng = new Philox(4);
        Tensor z = Tensor.randn(rng, 2, 3, 37, 29);
        Tensor c = Tensor.randn(rng, 2, 3, 37, 29);
        float[] whole = pointwise.predictNoise(z, c, 500).toFloatArray();
        float[] tiled = new TiledDenoiser(pointwise, 16, 6).predictNoise(z, c, 500).toFloatArray();
        assertEquals(whole.length, tiled.length);
        for (int i = 0; i < whole.length; i++) assertEquals(whole[i], tiled[i], 1e-5, "at " + i);
    }

    @Test
    void eachTileSeesOnlyItsOwnWindow() {
        int[] calls = {0};
        Denoiser counting = (z, c, t) -> {
            calls[0]++;
            assertTrue(z.dim(2) <= 8 && z.dim(3) <= 8, "tile of " + z.shape());
            assertEquals(z.shape(), c.shape());
            return z;
        };
        new TiledDenoiser(counting, 8, 2).predictNoise(Tensor.zeros(1, 3, 20, 14), Tensor.zeros(1, 3, 20, 14), 1);
        assertEquals(Tiles.starts(20, 8, 2).length * Tiles.starts(14, 8, 2).length, calls[0]);
    }

    @Test
    void badTilingIsRefused() {
        Denoiser d = (z, c, t) -> z;
        assertThrows(IllegalArgumentException.class, () -> new TiledDenoiser(d, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new TiledDenoiser(d, 8, 8));
    }
}
