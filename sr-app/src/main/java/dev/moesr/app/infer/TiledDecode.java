package dev.moesr.app.infer;

import dev.moesr.diffusion.sampling.Tiles;
import dev.moesr.tensor.Tensor;

import java.util.function.BiFunction;

/**
 * Decodes a latent in overlapping latent tiles and blends the decoded image tiles with Gaussian
 * weights (largest at a tile's centre), streaming finished rows to a sink: memory is bounded by
 * one tile and one band of rows, never the whole image. Each tile sees the matching region of the
 * upscaled LR image for its LR features, made on demand. A decoder that looks only at one latent
 * pixel gives exactly the untiled result; a real decoder (convolutions, group norm, attention)
 * differs a little near tile borders, which the overlap hides.
 */
public final class TiledDecode {
    private TiledDecode() {}

    /** Rows [y0, y1) and columns [x0, x1) of the LR image upscaled to the output size, as [1, 3, y1 - y0, x1 - x0]. */
    @FunctionalInterface
    public interface LrRegion {
        Tensor region(int y0, int y1, int x0, int x1);
    }

    /**
     * @param latent   [1, C, h, w]
     * @param factor   image pixels per latent pixel
     * @param tile     tile side in latent pixels; a latent no larger runs in one call
     * @param overlap  overlap of neighbouring tiles in latent pixels, in [0, tile)
     * @param lrUp     the upscaled LR image, a region at a time
     * @param decoder  (latent tile, LR tile) to an image tile [1, 3, th * factor, tw * factor]
     * @param afterTile called after each tile is decoded (progress), or null
     * @param sink     receives the image [1, 3, h * factor, w * factor] a band of finished rows at a time
     */
    public static void decode(Tensor latent, int factor, int tile, int overlap, LrRegion lrUp, BiFunction<Tensor, Tensor, Tensor> decoder,
                              Runnable afterTile, Tiles.RowSink sink) {
        Tiles.check(tile, overlap);
        if (latent.rank() != 4 || latent.dim(0) != 1) throw new IllegalArgumentException("tiled decoding takes one latent [1, C, h, w], got " + latent.shape());
        int h = latent.dim(2), w = latent.dim(3);
        Tiles.blendRows(h, w, tile, overlap, factor, (y, x, th, tw) -> {
            Tensor lr = lrUp.region(y * factor, (y + th) * factor, x * factor, (x + tw) * factor);
            Tensor z = th == h && tw == w ? latent : latent.slice(2, y, y + th).slice(3, x, x + tw);
            Tensor image = decoder.apply(z, lr);
            if (afterTile != null) afterTile.run();
            return image;
        }, sink);
    }

    /** The number of tiles {@link #decode} makes for a latent of h x w. */
    public static int tileCount(int h, int w, int tile, int overlap) {
        return Tiles.starts(h, tile, overlap).length * Tiles.starts(w, tile, overlap).length;
    }
}
