package dev.moesr.app.infer;

import dev.moesr.diffusion.sampling.Tiles;
import dev.moesr.tensor.Tensor;

import java.util.function.BiFunction;

/**
 * Decodes a large latent in overlapping latent tiles and blends the decoded image tiles with
 * Gaussian weights (largest at a tile's centre), so memory is bounded by one tile rather than
 * the whole image. Each tile sees the matching region of the upscaled LR image for its LR
 * features. A decoder that looks only at one latent pixel gives exactly the untiled result;
 * a real decoder (convolutions, group norm, attention) differs a little near tile borders.
 */
public final class TiledDecode {
    private TiledDecode() {}

    /**
     * @param latent   [1, C, h, w]
     * @param lrUp     [1, 3, h * factor, w * factor], the LR image upscaled to the output size
     * @param factor   image pixels per latent pixel
     * @param tile     tile side in latent pixels; a latent no larger runs in one call
     * @param overlap  overlap of neighbouring tiles in latent pixels, in [0, tile)
     * @param decoder  (latent tile, LR tile) to an image tile [1, 3, th * factor, tw * factor]
     */
    public static Tensor decode(Tensor latent, Tensor lrUp, int factor, int tile, int overlap, BiFunction<Tensor, Tensor, Tensor> decoder) {
        Tiles.check(tile, overlap);
        int h = latent.dim(2), w = latent.dim(3);
        if (lrUp.dim(2) != h * factor || lrUp.dim(3) != w * factor) {
            throw new IllegalArgumentException("the upscaled LR image " + lrUp.shape() + " must be " + factor + " times the latent " + latent.shape());
        }
        if (h <= tile && w <= tile) return decoder.apply(latent, lrUp);
        return Tiles.blend(h, w, tile, overlap, factor, latent.device(), (y, x, th, tw) -> decoder.apply(
                latent.slice(2, y, y + th).slice(3, x, x + tw),
                lrUp.slice(2, y * factor, (y + th) * factor).slice(3, x * factor, (x + tw) * factor)));
    }
}
