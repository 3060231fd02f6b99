package dev.moesr.app.data;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;

import java.nio.file.Path;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * LR/HR pairs from two folders (matched by file name) with random aligned crops and flips:
 * what {@code degrade} writes, read back for training or testing.
 */
public final class PairedImageDataset {
    private final List<ImagePair> pairs;
    private final int scale;
    private final int lrPatch;
    private final boolean rotations;
    private final long maxPixels;

    /**
     * @param lrPatch side of the LR crops (the HR crop is scale times larger)
     * @param rotations also flip top-bottom and transpose (not only left-right)
     */
    public PairedImageDataset(Path lrDir, Path hrDir, int scale, int lrPatch, boolean rotations, long maxPixels) throws ImageException {
        if (scale < 1) throw new IllegalArgumentException("scale must be >= 1, got " + scale);
        if (lrPatch < 1) throw new IllegalArgumentException("the LR patch must be >= 1, got " + lrPatch);
        this.pairs = Pairing.of(lrDir, hrDir).requireExactMatch(lrDir, hrDir).pairs();
        this.scale = scale;
        this.lrPatch = lrPatch;
        this.rotations = rotations;
        this.maxPixels = maxPixels;
    }

    public int size() { return pairs.size(); }

    public ImagePair pair(int index) { return pairs.get(index); }

    /** Example {@code index}: both images read, the same random crop of each, the same random flips. */
    public Augment.Sample sample(int index, RandomGenerator rng) throws ImageException {
        ImagePair p = pairs.get(index);
        Image lr = ImageFiles.read(p.first(), maxPixels), hr = ImageFiles.read(p.reference(), maxPixels);
        try {
            return Augment.flips(Augment.pairedCrop(lr, hr, scale, lrPatch, rng), rotations, rng);
        } catch (IllegalArgumentException e) {
            throw new ImageException(p.name() + ": " + e.getMessage());
        }
    }
}
