package dev.moesr.diffusion.sampling;

import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

/**
 * Runs a denoiser on overlapping tiles of a large latent and blends the predicted noise with
 * Gaussian weights (largest at a tile's centre), so any image size runs in the memory of one
 * tile. With a tile at least as large as the latent it calls the model once, unchanged.
 */
public final class TiledDenoiser implements Denoiser {
    private final Denoiser model;
    private final int tile;
    private final int overlap;

    /** {@code tile} and {@code overlap} in latent pixels; overlap must be smaller than the tile. */
    public TiledDenoiser(Denoiser model, int tile, int overlap) {
        if (tile < 1) throw new IllegalArgumentException("tile size must be >= 1 latent pixel, got " + tile);
        if (overlap < 0 || overlap >= tile) throw new IllegalArgumentException("overlap must be in [0, tile), got " + overlap + " for tile " + tile);
        this.model = model;
        this.tile = tile;
        this.overlap = overlap;
    }

    /** Start offsets of the tiles along a dimension of {@code size}: a regular stride, the last one flush with the end. */
    static int[] starts(int size, int tile, int overlap) {
        if (size <= tile) return new int[] {0};
        int stride = tile - overlap;
        int n = (int) Math.ceil((size - tile) / (double) stride) + 1;
        int[] s = new int[n];
        for (int i = 0; i < n; i++) s[i] = Math.min(i * stride, size - tile);
        return s;
    }

    @Override
    @SuppressWarnings("try")
    public Tensor predictNoise(Tensor zt, Tensor condition, int t) {
        int h = zt.dim(2), w = zt.dim(3);
        if (h <= tile && w <= tile) return model.predictNoise(zt, condition, t);
        int th = Math.min(tile, h), tw = Math.min(tile, w);
        Tensor weight = gaussian(th, tw, zt);
        Tensor sum = null, norm = null;
        for (int y : starts(h, tile, overlap)) {
            for (int x : starts(w, tile, overlap)) {
                try (Scope s = Scope.open()) {
                    Tensor zTile = zt.slice(2, y, y + th).slice(3, x, x + tw);
                    Tensor cTile = condition == null ? null : condition.slice(2, y, y + th).slice(3, x, x + tw);
                    Tensor eps = model.predictNoise(zTile, cTile, t);
                    int[] pads = {x, w - x - tw, y, h - y - th};
                    Tensor placed = eps.mul(weight).pad(pads, 0f);
                    Tensor placedWeight = weight.pad(pads, 0f);
                    Tensor newSum = sum == null ? placed : sum.add(placed);
                    Tensor newNorm = norm == null ? placedWeight : norm.add(placedWeight);
                    s.keep(newSum);
                    s.keep(newNorm);
                    if (sum != null) { sum.release(); norm.release(); }
                    sum = newSum;
                    norm = newNorm;
                }
            }
        }
        Tensor out = sum.div(norm);
        sum.release();
        norm.release();
        weight.release();
        return out;
    }

    /** A [1, 1, h, w] Gaussian window with sigma of a quarter of the tile side; never zero, so every pixel is covered. */
    private static Tensor gaussian(int h, int w, Tensor like) {
        float[] v = new float[h * w];
        double sy = h / 4.0, sx = w / 4.0, cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                double dy = (i - cy) / sy, dx = (j - cx) / sx;
                v[i * w + j] = (float) Math.exp(-0.5 * (dy * dy + dx * dx));
            }
        }
        return Tensor.of(like.device(), v, 1, 1, h, w);
    }
}
