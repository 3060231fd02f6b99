package dev.moesr.app.data;

import dev.moesr.app.degrade.Degradation;
import dev.moesr.app.degrade.DegradedPair;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;

import java.nio.file.Path;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * HR images of one folder, degraded on the fly as Real-ESRGAN and StableSR train: a random
 * hrPatch x hrPatch crop, a random left-right flip, then the degradation.
 */
public final class DegradingDataset {
    private final List<Path> files;
    private final Degradation degradation;
    private final int hrPatch;
    private final long maxPixels;

    public DegradingDataset(Path hrDir, Degradation degradation, int hrPatch, long maxPixels) throws ImageException {
        if (hrPatch < degradation.scale() || hrPatch % degradation.scale() != 0) {
            throw new IllegalArgumentException("the HR patch (" + hrPatch + ") must be a positive multiple of the scale " + degradation.scale());
        }
        this.files = ImageFolder.list(hrDir);
        this.degradation = degradation;
        this.hrPatch = hrPatch;
        this.maxPixels = maxPixels;
    }

    public int size() { return files.size(); }

    public Path file(int index) { return files.get(index); }

    public DegradedPair sample(int index, RandomGenerator rng) throws ImageException {
        Path f = files.get(index);
        Image hr = ImageFiles.read(f, maxPixels);
        if (hr.height() < hrPatch || hr.width() < hrPatch) {
            throw new ImageException(f + ": is " + hr.sizeText() + ", smaller than the " + hrPatch + "x" + hrPatch + " training patch");
        }
        Image patch = Augment.crop(hr, hrPatch, rng);
        if (rng.nextBoolean()) patch = patch.flipHorizontal();
        return degradation.apply(patch, rng);
    }
}
