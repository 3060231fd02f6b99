package dev.moesr.app.data;

import dev.moesr.app.degrade.BicubicDegradation;
import dev.moesr.app.degrade.DegradedPair;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class DatasetsTest {
    @TempDir
    Path dir;

    /** An 8-bit-exact gray image whose value at (y, x) is f(y / step, x / step): HR made by repeating LR pixels. */
    static Image blocks(int h, int w, int step) {
        float[] px = new float[h * w];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) px[y * w + x] = ((y / step) * 13 + (x / step) * 7) % 256 / 255f;
        return new Image(1, h, w, px);
    }

    private Path folder(String name) throws IOException {
        return Files.createDirectories(dir.resolve(name));
    }

    @Test
    void pairedCropsLineUpAndFollowTheSeed() throws IOException {
        Path lr = folder("lr"), hr = folder("hr");
        for (String n : new String[] {"a", "b"}) {
            ImageFiles.write(lr.resolve(n + ".png"), blocks(20, 24, 1));
            ImageFiles.write(hr.resolve(n + ".png"), blocks(60, 72, 3));
        }
        PairedImageDataset data = new PairedImageDataset(lr, hr, 3, 8, true, ImageFiles.DEFAULT_MAX_PIXELS);
        assertEquals(2, data.size());
        for (long seed = 0; seed < 20; seed++) {
            Augment.Sample s = data.sample((int) (seed % 2), new SplittableRandom(seed));
            assertEquals(8, s.lr().height());
            assertEquals(24, s.hr().height());
            // every HR pixel repeats the LR pixel it came from, whatever crop and flips were drawn
            for (int y = 0; y < 24; y++) for (int x = 0; x < 24; x++) assertEquals(s.lr().get(0, y / 3, x / 3), s.hr().get(0, y, x), 0f);
            Augment.Sample again = data.sample((int) (seed % 2), new SplittableRandom(seed));
            assertTrue(again.lr().sameAs(s.lr()) && again.hr().sameAs(s.hr()), "same seed, same sample");
        }
    }

    @Test
    void flipsCoverTheEightSymmetries() {
        Image lr = blocks(4, 4, 1), hr = blocks(8, 8, 2);
        java.util.Set<String> seen = new java.util.HashSet<>();
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < 200; i++) {
            Augment.Sample s = Augment.flips(new Augment.Sample(lr, hr), true, rng);
            seen.add(java.util.Arrays.toString(s.lr().pixels()));
        }
        assertEquals(8, seen.size());
        java.util.Set<String> onlyMirror = new java.util.HashSet<>();
        for (int i = 0; i < 50; i++) onlyMirror.add(java.util.Arrays.toString(Augment.flips(new Augment.Sample(lr, hr), false, rng).lr().pixels()));
        assertEquals(2, onlyMirror.size());
    }

    @Test
    void misalignedOrTooSmallPairsAreRefused() {
        Image lr = blocks(10, 10, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> Augment.pairedCrop(lr, blocks(30, 31, 3), 3, 4, new SplittableRandom(1)));
        assertTrue(e.getMessage().contains("31x30") && e.getMessage().contains("30x30"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Augment.pairedCrop(lr, blocks(30, 30, 3), 3, 11, new SplittableRandom(1)));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
    }

    @Test
    void pairingByNameReportsWhatIsMissing() throws IOException {
        Path a = folder("a"), b = folder("b");
        ImageFiles.write(a.resolve("x.png"), blocks(4, 4, 1));
        ImageFiles.write(a.resolve("y.png"), blocks(4, 4, 1));
        ImageFiles.write(b.resolve("x.jpg"), blocks(4, 4, 1));
        ImageFiles.write(b.resolve("z.bmp"), blocks(4, 4, 1));
        Files.writeString(b.resolve("notes.txt"), "not an image, ignored");
        Pairing p = Pairing.of(a, b);
        assertEquals(1, p.pairs().size());
        assertEquals("x", p.pairs().get(0).name());
        assertEquals(List.of("y"), p.onlyFirst());
        assertEquals(List.of("z"), p.onlyReference());
        var e = assertThrows(ImageException.class, () -> p.requireAllFirstMatched(a, b));
        assertTrue(e.getMessage().contains("y") && e.getMessage().contains("no partner"), e.getMessage());
        assertThrows(ImageException.class, () -> new PairedImageDataset(a, b, 2, 2, false, 1000));
    }

    @Test
    void folderProblemsAreNamed() throws IOException {
        var e = assertThrows(ImageException.class, () -> ImageFolder.list(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("no such folder"), e.getMessage());
        Path empty = folder("empty");
        Files.writeString(empty.resolve("readme.txt"), "x");
        e = assertThrows(ImageException.class, () -> ImageFolder.list(empty));
        assertTrue(e.getMessage().contains("holds no images") && e.getMessage().contains(".png"), e.getMessage());
        Path file = Files.writeString(dir.resolve("file.png"), "x");
        assertTrue(assertThrows(ImageException.class, () -> ImageFolder.list(file)).getMessage().contains("not a folder"));
        Path twins = folder("twins");
        ImageFiles.write(twins.resolve("a.png"), blocks(2, 2, 1));
        ImageFiles.write(twins.resolve("a.bmp"), blocks(2, 2, 1));
        e = assertThrows(ImageException.class, () -> ImageFolder.byStem(twins));
        assertTrue(e.getMessage().contains("same name"), e.getMessage());
    }

    @Test
    void degradingDatasetCropsFlipsAndDegrades() throws IOException {
        Path hr = folder("hrsrc");
        ImageFiles.write(hr.resolve("a.png"), blocks(40, 50, 1));
        DegradingDataset data = new DegradingDataset(hr, new BicubicDegradation(4), 16, ImageFiles.DEFAULT_MAX_PIXELS);
        DegradedPair p = data.sample(0, new SplittableRandom(1));
        assertEquals(16, p.hr().height());
        assertEquals(4, p.lr().width());
        assertThrows(IllegalArgumentException.class, () -> new DegradingDataset(hr, new BicubicDegradation(4), 18, 1000));
        DegradingDataset tooBig = new DegradingDataset(hr, new BicubicDegradation(4), 64, ImageFiles.DEFAULT_MAX_PIXELS);
        var e = assertThrows(ImageException.class, () -> tooBig.sample(0, new SplittableRandom(1)));
        assertTrue(e.getMessage().contains("smaller than the 64x64"), e.getMessage());
    }
}
