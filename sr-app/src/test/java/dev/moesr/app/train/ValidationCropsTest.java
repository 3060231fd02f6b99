package dev.moesr.app.train;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ValidationCropsTest {
    @TempDir Path dir;

    /** 96 x 192: the left half flat grey, the right half noise. */
    private static Image halfTextured() {
        int h = 96, w = 192;
        float[] p = new float[3 * h * w];
        SplittableRandom rng = new SplittableRandom(1);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) p[(c * h + y) * w + x] = x < 96 ? 0.5f : (float) rng.nextDouble();
            }
        }
        return new Image(3, h, w, p);
    }

    @Test
    void picksTheTexturedCropsAndNeverOverlappingOnes() {
        List<int[]> at = ValidationCrops.mostTextured(halfTextured(), 32, 4);
        assertEquals(4, at.size());
        for (int[] a : at) assertTrue(a[1] >= 96, "a crop at column " + a[1] + " lies in the flat half");
        for (int i = 0; i < at.size(); i++) {
            for (int j = i + 1; j < at.size(); j++) {
                boolean overlap = Math.abs(at.get(i)[0] - at.get(j)[0]) < 32 && Math.abs(at.get(i)[1] - at.get(j)[1]) < 32;
                assertFalse(overlap, "crops " + i + " and " + j + " overlap");
            }
        }
    }

    @Test
    void cropsAreFixedAndScoredAgainstTheirHrImages() throws IOException {
        ImageFiles.write(dir.resolve("a.png"), halfTextured());
        ValidationCrops v = new ValidationCrops(dir, "bicubic", 4, 4, 32);
        ValidationCrops again = new ValidationCrops(dir, "bicubic", 4, 4, 32);
        assertEquals(ValidationCrops.PER_IMAGE, v.crops().size());
        for (int i = 0; i < v.crops().size(); i++) {
            assertArrayEquals(v.crops().get(i).lr().pixels(), again.crops().get(i).lr().pixels(), "the same LR images every time");
            assertEquals(8, v.crops().get(i).lr().width());
        }
        try (Scope s = Scope.open()) {
            Tensor hr = v.hr(0, 2, Device.CPU), cond = v.condition(0, 2, Device.CPU), up = v.lrUpscaled(0, 2, Device.CPU);
            assertArrayEquals(new int[] {2, 3, 32, 32}, hr.dims());
            assertArrayEquals(new int[] {2, 3, 8, 8}, cond.dims());
            assertArrayEquals(new int[] {2, 3, 32, 32}, up.dims());
        }
        List<Image> perfect = new ArrayList<>();
        for (ValidationCrops.Crop c : v.crops()) perfect.add(c.hr());
        Map<String, Object> scores = v.scores(perfect);
        assertEquals(Double.POSITIVE_INFINITY, (double) scores.get("val_psnr"), "identical images");
        assertEquals(1.0, (double) scores.get("val_ssim"), 1e-12);
        assertFalse(scores.containsKey("val_niqe"), "32x32 crops are too small for NIQE");
        assertEquals(2, scores.get("val_crops"));
        Image mosaic = ValidationCrops.mosaic(perfect, 4);
        assertEquals(64, mosaic.width());
        assertEquals(v.crops().get(1).hr().get(2, 5, 7), mosaic.get(2, 5, 32 + 7));
    }
}
