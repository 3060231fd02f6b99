package dev.moesr.app.train;

import dev.moesr.app.data.DegradingDataset;
import dev.moesr.app.data.ImageFolder;
import dev.moesr.app.degrade.BicubicDegradation;
import dev.moesr.app.degrade.Degradation;
import dev.moesr.app.degrade.DegradedPair;
import dev.moesr.app.degrade.RealEsrganDegradation;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.image.MatlabResize;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Tensor;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Training batches from a folder of HR images: for each element a random image, a random
 * crop and flip, then the degradation (bicubic or Real-ESRGAN). Element i of micro-batch m of
 * step s draws from a generator keyed by (seed, s, m, i) alone, so a resumed run sees the very
 * batches the uninterrupted run would have seen.
 *
 * <p>Sizes: for scale s and latent factor f, an HR crop H gives a latent of H/f and an LR image
 * of H/s; the condition is the LR image resized (MATLAB bicubic) to the latent size.
 */
public final class TrainingPatches {
    /** One batch as tensors in [-1, 1]: HR [B,3,H,H], LR [B,3,H/s,H/s], condition [B,3,H/f,H/f]. */
    public record Batch(Tensor hr, Tensor lr, Tensor condition) {
        public void release() {
            hr.release();
            lr.release();
            condition.release();
        }
    }

    private final DegradingDataset dataset;
    private final int crop, scale, latentFactor;
    private final long seed;

    public TrainingPatches(Path dir, String pipeline, int scale, int latentFactor, int crop, long seed) throws IOException {
        if (crop <= 0 || crop % scale != 0 || crop % latentFactor != 0) {
            throw new IllegalArgumentException("--crop " + crop + " must be a positive multiple of the scale " + scale
                    + " and of the latent factor " + latentFactor + " (e.g. " + lcm(scale, latentFactor) * 8 + ")");
        }
        Degradation degradation = switch (pipeline) {
            case "bicubic" -> new BicubicDegradation(scale);
            case "realesrgan" -> new RealEsrganDegradation(scale);
            default -> throw new IllegalArgumentException("unknown --pipeline '" + pipeline + "'; use bicubic or realesrgan");
        };
        List<Path> files = ImageFolder.list(dir);
        for (Path f : files) checkSize(f, crop);
        this.dataset = new DegradingDataset(dir, degradation, crop, ImageFiles.DEFAULT_MAX_PIXELS);
        this.crop = crop;
        this.scale = scale;
        this.latentFactor = latentFactor;
        this.seed = seed;
    }

    public int crop() { return crop; }

    public int latentSize() { return crop / latentFactor; }

    public int imageCount() { return dataset.size(); }

    /** The batch of micro-batch {@code micro} of step {@code step}. */
    public Batch batch(long step, int micro, int size, Device device) throws ImageException {
        int lrSize = crop / scale, latent = latentSize();
        float[] hr = new float[size * 3 * crop * crop], lr = new float[size * 3 * lrSize * lrSize], cond = new float[size * 3 * latent * latent];
        for (int i = 0; i < size; i++) {
            SplittableRandom rng = new SplittableRandom(key(seed, step, micro, i));
            DegradedPair pair = dataset.sample(rng.nextInt(dataset.size()), rng);
            Image h = pair.hr().toRgb(), l = pair.lr().toRgb();
            float[] c = MatlabResize.resizeTo(l.pixels(), 3, l.height(), l.width(), latent, latent);
            toSigned(h.pixels(), hr, i * 3 * crop * crop);
            toSigned(l.pixels(), lr, i * 3 * lrSize * lrSize);
            toSigned(c, cond, i * 3 * latent * latent);
        }
        return new Batch(Tensor.of(device, hr, size, 3, crop, crop), Tensor.of(device, lr, size, 3, lrSize, lrSize),
                Tensor.of(device, cond, size, 3, latent, latent));
    }

    /** [0, 1] pixels to [-1, 1], clamped (the degradations may overshoot a little). */
    private static void toSigned(float[] src, float[] dst, int offset) {
        for (int i = 0; i < src.length; i++) dst[offset + i] = Math.max(-1f, Math.min(1f, src[i] * 2f - 1f));
    }

    /** SplitMix64 over the four numbers: independent streams for every (seed, step, micro-batch, element). */
    static long key(long seed, long step, int micro, int element) {
        long z = mix(seed ^ mix(step + 0x632BE59BD9B4E019L));
        z = mix(z ^ mix(((long) micro << 32) ^ element ^ 0x9E3779B97F4A7C15L));
        return z;
    }

    /** Seed of the Space-MoE routing of step s (its own stream, apart from the data's). */
    public static long routingSeed(long seed, long step) { return key(seed, step, -1, -1); }

    static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static int lcm(int a, int b) {
        int x = a, y = b;
        while (y != 0) { int t = x % y; x = y; y = t; }
        return a / x * b;
    }

    /** Refuses an image smaller than the crop before training starts (reads only the header when it can). */
    private static void checkSize(Path f, int crop) throws IOException {
        int w = -1, h = -1;
        try (ImageInputStream in = ImageIO.createImageInputStream(f.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers != null && readers.hasNext()) {
                ImageReader r = readers.next();
                try {
                    r.setInput(in);
                    w = r.getWidth(0);
                    h = r.getHeight(0);
                } finally {
                    r.dispose();
                }
            }
        }
        if (w < 0) {
            Image img = ImageFiles.read(f);
            w = img.width();
            h = img.height();
        }
        if (w < crop || h < crop) {
            throw new ImageException(f + ": is " + w + "x" + h + ", smaller than the " + crop + "x" + crop
                    + " training crop; use a smaller --crop or remove the image");
        }
    }
}
