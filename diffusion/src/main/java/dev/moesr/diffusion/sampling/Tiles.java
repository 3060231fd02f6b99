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
     * of the windows: the result is [N, C, h*factor, w*factor].
     */
    @SuppressWarnings("try")
    public static Tensor blend(int h, int w, int tile, int overlap, int factor, Device device, TileFunction fn) {
        check(tile, overlap);
        int th = Math.min(tile, h), tw = Math.min(tile, w);
        int outH = h * factor, outW = w * factor, tileH = th * factor, tileW = tw * factor;
        Tensor weight = gaussian(tileH, tileW, device);
        Tensor sum = null, norm = null;
        for (int y : starts(h, tile, overlap)) {
            for (int x : starts(w, tile, overlap)) {
                try (Scope s = Scope.open()) {
                    Tensor result = fn.apply(y, x, th, tw);
                    int[] pads = {x * factor, outW - x * factor - tileW, y * factor, outH - y * factor - tileH};
                    Tensor newSum = result.mul(weight).pad(pads, 0f);
                    Tensor newNorm = weight.pad(pads, 0f);
                    if (sum != null) {
                        newSum = newSum.add(sum);
                        newNorm = newNorm.add(norm);
                        sum.release();
                        norm.release();
                    }
                    sum = s.keep(newSum);
                    norm = s.keep(newNorm);
                }
            }
        }
        Tensor out = sum.div(norm);
        sum.release();
        norm.release();
        weight.release();
        return out;
    }

    private static Tensor gaussian(int h, int w, Device device) {
        float[] v = new float[h * w];
        double sy = h / 4.0, sx = w / 4.0, cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                double dy = (i - cy) / sy, dx = (j - cx) / sx;
                v[i * w + j] = (float) Math.exp(-0.5 * (dy * dy + dx * dx));
            }
        }
        return Tensor.of(device, v, 1, 1, h, w);
    }
}
