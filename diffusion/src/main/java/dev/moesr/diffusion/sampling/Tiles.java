package dev.moesr.diffusion.sampling;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

/**
 * Overlapping tiles over an h x w grid, and the Gaussian blending of per-tile results, shared
 * by tiled sampling (noise predicted per latent tile) and tiled decoding (image tiles
 * {@code factor} times larger than their latent tiles). Memory is bounded by one tile plus the
 * running sums; a per-pixel function gives exactly its untiled result.
 */
public final class Tiles {
    private Tiles() {}

    /** What to compute for the tile at (y, x) of size th x tw (grid units): an [N, C, th*factor, tw*factor] result. */
    @FunctionalInterface
    public interface TileFunction {
        Tensor apply(int y, int x, int th, int tw);
    }

    /** Tile starts along a side of {@code size}: a regular stride of tile - overlap, the last tile flush with the end. */
    public static int[] starts(int size, int tile, int overlap) {
        check(tile, overlap);
        if (size <= tile) return new int[] {0};
        int stride = tile - overlap;
        int n = (int) Math.ceil((size - tile) / (double) stride) + 1;
        int[] s = new int[n];
        for (int i = 0; i < n; i++) s[i] = Math.min(i * stride, size - tile);
        return s;
    }

    public static void check(int tile, int overlap) {
        if (tile < 1) throw new IllegalArgumentException("tile size must be >= 1, got " + tile);
        if (overlap < 0 || overlap >= tile) throw new IllegalArgumentException("overlap must be in [0, tile), got " + overlap + " for tile " + tile);
    }

    /**
     * Runs {@code fn} on every tile of an h x w grid and blends the results, each weighted by a
     * Gaussian window (sigma a quarter of the tile side, never zero) and normalised by the sum
     * of the windows: the result is [N, C, h*factor, w*factor] on {@code device}. The weighted
     * sums accumulate in place in host arrays, so the cost is one pass over each tile's result
     * (not over the whole image per tile) and device memory holds one tile at a time.
     */
    @SuppressWarnings("try")
    public static Tensor blend(int h, int w, int tile, int overlap, int factor, Device device, TileFunction fn) {
        check(tile, overlap);
        int th = Math.min(tile, h), tw = Math.min(tile, w);
        int outH = h * factor, outW = w * factor, tileH = th * factor, tileW = tw * factor;
        float[] window = gaussianWindow(tileH, tileW);
        float[] norm = new float[outH * outW];
        float[] sum = null;
        int planes = 0, batch = 0, channels = 0;
        for (int y : starts(h, tile, overlap)) {
            for (int x : starts(w, tile, overlap)) {
                float[] values;
                try (Scope s = Scope.open()) {
                    Tensor result = fn.apply(y, x, th, tw);
                    if (result.rank() != 4 || result.dim(2) != tileH || result.dim(3) != tileW) {
                        throw new IllegalStateException("a tile of " + th + "x" + tw + " gave a result of shape " + result.shape()
                                + ", expected [N, C, " + tileH + ", " + tileW + "]");
                    }
                    if (sum == null) {
                        batch = result.dim(0);
                        channels = result.dim(1);
                        planes = batch * channels;
                        if ((long) planes * outH * outW > Integer.MAX_VALUE - 8) {
                            throw new IllegalArgumentException("the blended result " + batch + "x" + channels + "x" + outH + "x" + outW + " is too large for one array; process the image in parts");
                        }
                        sum = new float[planes * outH * outW];
                    }
                    values = result.toFloatArray();
                }
                int oy = y * factor, ox = x * factor;
                for (int p = 0; p < planes; p++) {
                    for (int i = 0; i < tileH; i++) {
                        int src = (p * tileH + i) * tileW, dst = (p * outH + oy + i) * outW + ox, win = i * tileW;
                        for (int j = 0; j < tileW; j++) sum[dst + j] += values[src + j] * window[win + j];
                    }
                }
                for (int i = 0; i < tileH; i++) {
                    int dst = (oy + i) * outW + ox, win = i * tileW;
                    for (int j = 0; j < tileW; j++) norm[dst + j] += window[win + j];
                }
            }
        }
        int plane = outH * outW;
        for (int p = 0; p < planes; p++) {
            for (int k = 0; k < plane; k++) sum[p * plane + k] /= norm[k];
        }
        return Tensor.of(device, sum, batch, channels, outH, outW);
    }

    private static float[] gaussianWindow(int h, int w) {
        float[] v = new float[h * w];
        double sy = h / 4.0, sx = w / 4.0, cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                double dy = (i - cy) / sy, dx = (j - cx) / sx;
                v[i * w + j] = (float) Math.exp(-0.5 * (dy * dy + dx * dx));
            }
        }
        return v;
    }
}
