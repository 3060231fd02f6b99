package dev.moesr.app.train;

import dev.moesr.app.data.ImageFolder;
import dev.moesr.app.degrade.BicubicDegradation;
import dev.moesr.app.degrade.DegradedPair;
import dev.moesr.app.degrade.Degradation;
import dev.moesr.app.degrade.RealEsrganDegradation;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.image.MatlabResize;
import dev.moesr.app.metrics.FullReference;
import dev.moesr.app.metrics.Niqe;
import dev.moesr.app.metrics.Plane;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The fixed validation set of a training run: from every held-out image, the {@link #PER_IMAGE}
 * most textured square crops that do not overlap (texture: mean gradient magnitude of the luma
 * on a grid of candidate positions half a crop apart), each with its LR image made by the run's
 * degradation under a fixed seed. A flat patch of sky can no longer stand for a whole image.
 * Scores are means over all crops: PSNR-Y and SSIM with a border of the scale cropped (as
 * {@code eval}), NIQE of the whole crop (it needs at least two 96x96 blocks: NaN otherwise).
 */
public final class ValidationCrops {
    /** Crops taken from each image (fewer when the image has no room for them without overlap). */
    public static final int PER_IMAGE = 2;

    /** One crop: its source name and position, the HR and LR images in [0, 1]. */
    public record Crop(String name, Image hr, Image lr) {}

    private final List<Crop> crops;
    private final int size, scale, latentFactor;

    public ValidationCrops(Path dir, String pipeline, int scale, int latentFactor, int size) throws IOException {
        this.size = size;
        this.scale = scale;
        this.latentFactor = latentFactor;
        Degradation degradation = switch (pipeline) {
            case "bicubic" -> new BicubicDegradation(scale);
            case "realesrgan" -> new RealEsrganDegradation(scale);
            default -> throw new IllegalArgumentException("unknown --pipeline '" + pipeline + "'; use bicubic or realesrgan");
        };
        List<Crop> found = new ArrayList<>();
        for (Path f : ImageFolder.list(dir)) {
            Image img = ImageFiles.read(f).toRgb().withoutAlpha();
            if (img.width() < size || img.height() < size) {
                throw new ImageException(f + ": is " + img.sizeText() + ", smaller than the " + size + "x" + size
                        + " validation crop; use a smaller --val-crop or remove the image");
            }
            for (int[] at : mostTextured(img, size, PER_IMAGE)) {
                Image hr = img.crop(at[0], at[1], size, size);
                DegradedPair pair = degradation.apply(hr, new SplittableRandom(0x5A11DL + found.size()));
                found.add(new Crop(ImageFiles.stem(f) + "@" + at[1] + "," + at[0], pair.hr().toRgb(), pair.lr().toRgb()));
            }
        }
        if (found.isEmpty()) throw new ImageException(dir + ": holds no validation images (.png, .jpg, .bmp)");
        this.crops = List.copyOf(found);
    }

    public List<Crop> crops() { return crops; }

    public int size() { return size; }

    /** HR crops {@code from} to {@code to} as a tensor [n, 3, S, S] in [-1, 1]. */
    public Tensor hr(int from, int to, Device device) { return stack(from, to, device, c -> c.hr().pixels(), size); }

    /** Their LR images resized (MATLAB bicubic) to the latent size: the UNet's condition, [n, 3, S/f, S/f] in [-1, 1]. */
    public Tensor condition(int from, int to, Device device) {
        int lrSize = size / scale, latent = size / latentFactor;
        return stack(from, to, device, c -> MatlabResize.resizeTo(c.lr().pixels(), 3, lrSize, lrSize, latent, latent), latent);
    }

    /** Their LR images upscaled (MATLAB bicubic) to the HR size: the decoder's LR-feature input, [n, 3, S, S] in [-1, 1]. */
    public Tensor lrUpscaled(int from, int to, Device device) {
        int lrSize = size / scale;
        return stack(from, to, device, c -> MatlabResize.resizeTo(c.lr().pixels(), 3, lrSize, lrSize, size, size), size);
    }

    private Tensor stack(int from, int to, Device device, java.util.function.Function<Crop, float[]> pixels, int side) {
        int n = to - from, per = 3 * side * side;
        float[] all = new float[n * per];
        for (int i = 0; i < n; i++) {
            float[] p = pixels.apply(crops.get(from + i));
            for (int j = 0; j < per; j++) all[i * per + j] = Math.max(-1f, Math.min(1f, p[j] * 2f - 1f));
        }
        return Tensor.of(device, all, n, 3, side, side);
    }

    /** Top-left corners (row, column) of the {@code count} most textured non-overlapping crops, best first. */
    static List<int[]> mostTextured(Image img, int size, int count) {
        Plane y = Plane.luma(img);
        int stride = Math.max(1, size / 2);
        List<double[]> candidates = new ArrayList<>();   // {score, row, column}
        for (int r = 0; r + size <= img.height(); r += stride) {
            for (int c = 0; c + size <= img.width(); c += stride) candidates.add(new double[] {texture(y, r, c, size), r, c});
        }
        candidates.sort((a, b) -> Double.compare(b[0], a[0]));
        List<int[]> chosen = new ArrayList<>();
        for (double[] cand : candidates) {
            int r = (int) cand[1], c = (int) cand[2];
            boolean overlaps = false;
            for (int[] o : chosen) overlaps |= Math.abs(o[0] - r) < size && Math.abs(o[1] - c) < size;
            if (!overlaps) chosen.add(new int[] {r, c});
            if (chosen.size() == count) break;
        }
        return chosen;
    }

    /** Mean absolute horizontal plus vertical difference of the luma inside the crop. */
    private static double texture(Plane y, int r0, int c0, int size) {
        double sum = 0;
        for (int r = r0; r < r0 + size - 1; r++) {
            for (int c = c0; c < c0 + size - 1; c++) {
                double v = y.get(r, c);
                sum += Math.abs(y.get(r, c + 1) - v) + Math.abs(y.get(r + 1, c) - v);
            }
        }
        return sum / ((double) (size - 1) * (size - 1));
    }

    /**
     * Mean PSNR-Y, SSIM and NIQE of {@code outputs} (one per crop, in order, [0, 1] RGB) against the
     * HR crops: {@code val_psnr}, {@code val_ssim}, {@code val_niqe} (absent when no crop is large
     * enough for NIQE), and {@code val_crops}.
     */
    public Map<String, Object> scores(List<Image> outputs) {
        if (outputs.size() != crops.size()) throw new IllegalArgumentException(outputs.size() + " outputs for " + crops.size() + " validation crops");
        double psnr = 0, ssim = 0, niqe = 0;
        int niqeCount = 0;
        Niqe model = Niqe.standard();
        for (int i = 0; i < outputs.size(); i++) {
            Plane out = Plane.luma(outputs.get(i)), ref = Plane.luma(crops.get(i).hr());
            psnr += FullReference.psnr(out.cropBorder(scale), ref.cropBorder(scale));
            ssim += FullReference.ssim(out.cropBorder(scale), ref.cropBorder(scale));
            try {
                niqe += model.score(out.rounded());
                niqeCount++;
            } catch (IllegalArgumentException e) {
                // smaller than two 96x96 blocks
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("val_psnr", psnr / outputs.size());
        m.put("val_ssim", ssim / outputs.size());
        if (niqeCount == outputs.size()) m.put("val_niqe", niqe / niqeCount);
        m.put("val_crops", outputs.size());
        return m;
    }

    /** Up to {@code max} images side by side (one row): the picture a validation event writes. */
    public static Image mosaic(List<Image> images, int max) {
        int n = Math.min(max, images.size()), h = images.get(0).height(), w = images.get(0).width();
        float[] p = new float[3 * h * w * n];
        for (int i = 0; i < n; i++) {
            Image img = images.get(i);
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < h; y++) System.arraycopy(img.pixels(), (c * h + y) * w, p, (c * h + y) * (w * n) + i * w, w);
            }
        }
        return new Image(3, h, w * n, p);
    }
}
