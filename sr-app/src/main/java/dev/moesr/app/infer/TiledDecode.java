package dev.moesr.app.infer;

import dev.moesr.tensor.Scope;
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
    @SuppressWarnings("try")
    public static Tensor decode(Tensor latent, Tensor lrUp, int factor, int tile, int overlap, BiFunction<Tensor, Tensor, Tensor> decoder) {
        if (tile < 1 || overlap < 0 || overlap >= tile) {
            throw new IllegalArgumentException("decode tiles need tile >= 1 and 0 <= overlap < tile, got tile " + tile + ", overlap " + overlap);
        }
        int h = latent.dim(2), w = latent.dim(3);
        if (lrUp.dim(2) != h * factor || lrUp.dim(3) != w * factor) {
            throw new IllegalArgumentException("the upscaled LR image " + lrUp.shape() + " must be " + factor + " times the latent " + latent.shape());
        }
        if (h <= tile && w <= tile) return decoder.apply(latent, lrUp);
        int th = Math.min(tile, h), tw = Math.min(tile, w);
        int H = h * factor, W = w * factor, TH = th * factor, TW = tw * factor;
        Tensor weight = gaussian(TH, TW, latent);
        Tensor sum = null, norm = null;
        for (int y : starts(h, tile, overlap)) {
            for (int x : starts(w, tile, overlap)) {
                try (Scope s = Scope.open()) {
                    Tensor zTile = latent.slice(2, y, y + th).slice(3, x, x + tw);
                    Tensor lrTile = lrUp.slice(2, y * factor, y * factor + TH).slice(3, x * factor, x * factor + TW);
                    Tensor img = decoder.apply(zTile, lrTile);
                    int[] pads = {x * factor, W - x * factor - TW, y * factor, H - y * factor - TH};
                    Tensor placed = img.mul(weight).pad(pads, 0f);
                    Tensor placedWeight = weight.pad(pads, 0f);
                    Tensor newSum = sum == null ? placed : sum.add(placed);
                    Tensor newNorm = norm == null ? placedWeight : norm.add(placedWeight);
                    s.keep(newSum);
                    s.keep(newNorm);
                    if (sum != null) {
                        sum.release();
                        norm.release();
                    }
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

    /** Tile starts along a side of {@code size}: a regular stride of tile - overlap, the last tile flush with the end. */
    static int[] starts(int size, int tile, int overlap) {
        if (size <= tile) return new int[] {0};
        int stride = tile - overlap;
        int n = (int) Math.ceil((size - tile) / (double) stride) + 1;
        int[] s = new int[n];
        for (int i = 0; i < n; i++) s[i] = Math.min(i * stride, size - tile);
        return s;
    }

    /** A [1, 1, h, w] Gaussian window, sigma a quarter of the side; never zero, so every pixel is covered. */
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
