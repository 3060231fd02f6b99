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

    /**
     * The tile side, at most {@code tile} and a multiple of {@code multiple}, that covers
     * {@code size} with as few tiles as the given one but spreads them evenly: a 256-long side
     * with tiles of 128 overlapping by 16 takes three tiles either way, but of 96 (overlaps of 16)
     * rather than of 128 (overlaps of 16 and 112), so it computes 288 instead of 384. A side no
     * longer than one tile keeps {@code tile}.
     */
    public static int balanced(int size, int tile, int overlap, int multiple) {
        check(tile, overlap);
        if (multiple < 1) throw new IllegalArgumentException("multiple must be >= 1, got " + multiple);
        if (size <= tile) return tile;
        int n = (int) Math.ceil((size - overlap) / (double) (tile - overlap));
        int even = (int) Math.ceil((size + (double) (n - 1) * overlap) / n);
        int t = (even + multiple - 1) / multiple * multiple;
        return Math.min(t, tile);   // > overlap, since size > overlap
    }

    public static void check(int tile, int overlap) {
        if (tile < 1) throw new IllegalArgumentException("tile size must be >= 1, got " + tile);
        if (overlap < 0 || overlap >= tile) throw new IllegalArgumentException("overlap must be in [0, tile), got " + overlap + " for tile " + tile);
    }

    /**
     * Receives finished rows of a blended result: rows [y0, y0 + count) of all its planes
     * (batch x channels), {@code values[(p * count + r) * width + x]}. The array is reused
     * after the call returns.
     */
    @FunctionalInterface
    public interface RowSink {
        void rows(int y0, int count, int planes, int width, float[] values);
    }

    /**
     * Runs {@code fn} on every tile of an h x w grid and blends the results, each weighted by a
     * Gaussian window (sigma a quarter of the tile side, never zero) and normalised by the sum
     * of the windows: the result is [N, C, h*factor, w*factor] on {@code device}.
     */
    public static Tensor blend(int h, int w, int tile, int overlap, int factor, Device device, TileFunction fn) {
        float[][] result = {null};
        int[] batchAndChannels = new int[2];
        int outH = h * factor, outW = w * factor;
        TileFunction recording = (y, x, th, tw) -> {
            Tensor t = fn.apply(y, x, th, tw);
            batchAndChannels[0] = t.dim(0);
            batchAndChannels[1] = t.rank() > 1 ? t.dim(1) : 1;
            return t;
        };
        blendRows(h, w, tile, overlap, factor, recording, (y0, count, planes, width, values) -> {
            if (result[0] == null) {
                if ((long) planes * outH * outW > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException("the blended result " + planes + "x" + outH + "x" + outW + " is too large for one array; process the image in parts");
                }
                result[0] = new float[planes * outH * outW];
            }
            for (int p = 0; p < planes; p++) System.arraycopy(values, p * count * width, result[0], (p * outH + y0) * width, count * width);
        });
        return Tensor.of(device, result[0], batchAndChannels[0], batchAndChannels[1], outH, outW);
    }

    /**
     * As {@link #blend}, but the result goes to {@code sink} a band of finished rows at a time,
     * top to bottom, and is never held whole: the tiles run row by row, and the running sums
     * cover only the rows the current row of tiles touches (one tile's height at full width).
     * Each tile's result is read into host arrays as soon as it is made, so device memory holds
     * one tile at a time. A grid no larger than one tile is a single call, unweighted.
     */
    @SuppressWarnings("try")
    public static void blendRows(int h, int w, int tile, int overlap, int factor, TileFunction fn, RowSink sink) {
        check(tile, overlap);
        int th = Math.min(tile, h), tw = Math.min(tile, w);
        int outW = w * factor, tileH = th * factor, tileW = tw * factor;
        int[] ys = starts(h, tile, overlap), xs = starts(w, tile, overlap);
        boolean single = ys.length == 1 && xs.length == 1;
        float[] window = single ? null : gaussianWindow(tileH, tileW);
        float[] sum = null, norm = new float[tileH * outW];
        int planes = 0;
        for (int r = 0; r < ys.length; r++) {
            for (int x : xs) {
                float[] values;
                try (Scope s = Scope.open()) {
                    Tensor result = fn.apply(ys[r], x, th, tw);
                    if (result.rank() != 4 || result.dim(2) != tileH || result.dim(3) != tileW) {
                        throw new IllegalStateException("a tile of " + th + "x" + tw + " gave a result of shape " + result.shape()
                                + ", expected [N, C, " + tileH + ", " + tileW + "]");
                    }
                    if (sum == null) {
                        planes = result.dim(0) * result.dim(1);
                        if ((long) planes * tileH * outW > Integer.MAX_VALUE - 8) {
                            throw new IllegalArgumentException("a band of " + planes + "x" + tileH + "x" + outW + " is too large for one array; use a smaller tile");
                        }
                        sum = new float[planes * tileH * outW];
                    }
                    values = result.toFloatArray();
                }
                if (single) {
                    sink.rows(0, tileH, planes, outW, values);
                    return;
                }
                int ox = x * factor;
                for (int p = 0; p < planes; p++) {
                    for (int i = 0; i < tileH; i++) {
                        int src = (p * tileH + i) * tileW, dst = (p * tileH + i) * outW + ox, win = i * tileW;
                        for (int j = 0; j < tileW; j++) sum[dst + j] += values[src + j] * window[win + j];
                    }
                }
                for (int i = 0; i < tileH; i++) {
                    int dst = i * outW + ox, win = i * tileW;
                    for (int j = 0; j < tileW; j++) norm[dst + j] += window[win + j];
                }
            }
            // rows above the next row of tiles are finished: normalise them, hand them on, move the rest up
            int done = r + 1 < ys.length ? (ys[r + 1] - ys[r]) * factor : tileH;
            float[] finished = new float[planes * done * outW];
            for (int p = 0; p < planes; p++) {
                for (int k = 0; k < done * outW; k++) finished[p * done * outW + k] = sum[p * tileH * outW + k] / norm[k];
            }
            sink.rows(ys[r] * factor, done, planes, outW, finished);
            int keep = (tileH - done) * outW;
            for (int p = 0; p < planes; p++) {
                int base = p * tileH * outW;
                System.arraycopy(sum, base + done * outW, sum, base, keep);
                java.util.Arrays.fill(sum, base + keep, base + tileH * outW, 0f);
            }
            System.arraycopy(norm, done * outW, norm, 0, keep);
            java.util.Arrays.fill(norm, keep, tileH * outW, 0f);
        }
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
