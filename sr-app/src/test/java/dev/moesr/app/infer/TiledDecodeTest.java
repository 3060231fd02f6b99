package dev.moesr.app.infer;

import dev.moesr.diffusion.sampling.DdimSampler;
import dev.moesr.diffusion.sampling.Denoiser;
import dev.moesr.diffusion.sampling.NoiseSchedule;
import dev.moesr.diffusion.sampling.SamplingPlan;
import dev.moesr.diffusion.sampling.TiledDenoiser;
import dev.moesr.tensor.Philox;
import dev.moesr.diffusion.sampling.Tiles;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Tiling must not change what a pointwise model computes: blending only averages equal values. */
class TiledDecodeTest {
    private static final int FACTOR = 4;

    /** Image pixel (y, x) depends only on latent pixel (y / 4, x / 4) and LR pixel (y, x): tiling changes nothing. */
    private static Tensor pointwiseDecode(Tensor z, Tensor lr) {
        int h = z.dim(2), w = z.dim(3);
        float[] zv = z.toFloatArray(), lv = lr.toFloatArray();
        int c = z.dim(1), H = h * FACTOR, W = w * FACTOR;
        float[] out = new float[3 * H * W];
        for (int k = 0; k < 3; k++) {
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    float latent = zv[((k % c) * h + y / FACTOR) * w + x / FACTOR];
                    out[(k * H + y) * W + x] = (float) Math.tanh(latent) + 0.5f * lv[(k * H + y) * W + x];
                }
            }
        }
        return Tensor.of(out, 1, 3, H, W);
    }

    /** Decodes through {@link TiledDecode} and assembles the streamed rows, checking they come top to bottom, each once. */
    private static float[] decode(Tensor z, Tensor lr, int tile, int overlap, BiFunction<Tensor, Tensor, Tensor> dec, int[] tilesSeen) {
        int H = z.dim(2) * FACTOR, W = z.dim(3) * FACTOR;
        float[] out = new float[3 * H * W];
        int[] nextRow = {0};
        TiledDecode.decode(z, FACTOR, tile, overlap,
                (y0, y1, x0, x1) -> lr.slice(2, y0, y1).slice(3, x0, x1),
                dec, () -> tilesSeen[0]++,
                (y0, count, planes, width, values) -> {
                    assertEquals(nextRow[0], y0, "rows arrive in order, each once");
                    assertEquals(3, planes);
                    assertEquals(W, width);
                    for (int p = 0; p < planes; p++) System.arraycopy(values, p * count * width, out, (p * H + y0) * W, count * width);
                    nextRow[0] += count;
                });
        assertEquals(H, nextRow[0], "every row was delivered");
        return out;
    }

    @Test
    void tiledDecodeOfAPointwiseDecoderEqualsTheUntiledOne() {
        Philox rng = new Philox(11);
        Tensor z = Tensor.randn(rng, dev.moesr.tensor.Device.CPU, 1, 3, 13, 9);   // odd sizes: the last tiles are flush with the end
        Tensor lr = Tensor.randn(rng, dev.moesr.tensor.Device.CPU, 1, 3, 13 * FACTOR, 9 * FACTOR);
        BiFunction<Tensor, Tensor, Tensor> dec = TiledDecodeTest::pointwiseDecode;
        int[] wholeTiles = {0}, tiledTiles = {0};
        float[] whole = decode(z, lr, 64, 8, dec, wholeTiles);
        float[] tiled = decode(z, lr, 4, 2, dec, tiledTiles);
        assertArrayEquals(pointwiseDecode(z, lr).toFloatArray(), whole, 0f);
        assertArrayEquals(whole, tiled, 1e-5f);
        assertEquals(1, wholeTiles[0]);
        assertEquals(TiledDecode.tileCount(13, 9, 4, 2), tiledTiles[0]);
        assertEquals(Tiles.starts(13, 4, 2).length * Tiles.starts(9, 4, 2).length, tiledTiles[0]);
    }

    @Test
    void tileStartsCoverTheSideWithTheLastTileFlush() {
        assertArrayEquals(new int[] {0}, Tiles.starts(5, 8, 2));
        assertArrayEquals(new int[] {0, 6, 12, 13}, Tiles.starts(21, 8, 2));
        assertThrows(IllegalArgumentException.class, () -> TiledDecode.decode(Tensor.zeros(1, 1, 4, 4), 4, 4, 4,
                (y0, y1, x0, x1) -> Tensor.zeros(1, 3, y1 - y0, x1 - x0), (a, b) -> b, null, (y0, c, p, w, v) -> { }));
    }

    @Test
    void tiledSamplingOfAPointwiseDenoiserEqualsTheUntiledOne() {
        // eps depends only on the pixel's own z_t and condition, so Gaussian blending of tiles returns it unchanged
        Denoiser pointwise = (zt, cond, t) -> zt.mul(0.3f).add(cond.slice(1, 0, 1).mul(0.1f * (t % 7)));
        DdimSampler sampler = new DdimSampler(SamplingPlan.uniform(NoiseSchedule.ldmLinear(), 10, 1.0));
        Tensor cond = Tensor.randn(new Philox(3), dev.moesr.tensor.Device.CPU, 1, 3, 10, 14);
        int[] shape = {1, 3, 10, 14};
        float[] whole = sampler.sample(new TiledDenoiser(pointwise, 64, 8), cond, shape, new Philox(5), null).toFloatArray();
        float[] tiled = sampler.sample(new TiledDenoiser(pointwise, 4, 2), cond, shape, new Philox(5), null).toFloatArray();
        assertEquals(whole.length, tiled.length);
        assertArrayEquals(whole, tiled, 1e-4f);
    }
}
