package dev.moesr.diffusion.sampling;

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
        Tiles.check(tile, overlap);
        this.model = model;
        this.tile = tile;
        this.overlap = overlap;
    }

    @Override
    public Tensor predictNoise(Tensor zt, Tensor condition, int t) {
        int h = zt.dim(2), w = zt.dim(3);
        if (h <= tile && w <= tile) return model.predictNoise(zt, condition, t);
        return Tiles.blend(h, w, tile, overlap, 1, zt.device(), (y, x, th, tw) -> model.predictNoise(
                zt.slice(2, y, y + th).slice(3, x, x + tw),
                condition == null ? null : condition.slice(2, y, y + th).slice(3, x, x + tw), t));
    }
}
