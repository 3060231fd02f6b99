package dev.moesr.app.metrics;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.app.testing.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class FullReferenceTest {

    static Image resourceImage(String name) throws Exception {
        return ImageFiles.read(Path.of(FullReferenceTest.class.getResource("/metrics/" + name).toURI()));
    }

    @Test
    void psnrAndSsimMatchScikitImage() throws Exception {
        Fixture f = new Fixture("/metrics/metrics.txt");
        int checked = 0;
        for (int i = 0; f.has("fullref" + i); i++, checked++) {
            String[] t = f.tokens("fullref" + i);
            int border = Integer.parseInt(t[2]);
            Plane a = Plane.luma(resourceImage(t[0])).cropBorder(border);
            Plane b = Plane.luma(resourceImage(t[1])).cropBorder(border);
            String what = t[0] + " vs " + t[1] + ", border " + border;
            // tolerances cover reading 8-bit values as float32 (about 1e-5 on Y)
            assertEquals(Double.parseDouble(t[3]), FullReference.psnr(a, b), 1e-6, "PSNR " + what);
            assertEquals(Double.parseDouble(t[4]), FullReference.ssim(a, b), 1e-7, "SSIM " + what);
        }
        assertEquals(3, checked);
    }

    @Test
    void identicalImagesHaveInfinitePsnrAndSsimOne() {
        Gen c = new Gen(3);
        Plane p = new Plane(20, 17, c.doubles(20 * 17, 0, 255));
        assertEquals(Double.POSITIVE_INFINITY, FullReference.psnr(p, p));
        assertEquals(1.0, FullReference.ssim(p, p), 1e-12);
    }

    @Test
    void psnrOfAKnownError() {
        // every value off by 2.55: MSE 6.5025, PSNR = 10 log10(255^2 / 6.5025) = 40 dB
        double[] a = new double[50], b = new double[50];
        for (int i = 0; i < 50; i++) {
            a[i] = i;
            b[i] = i + (i % 2 == 0 ? 2.55 : -2.55);
        }
        assertEquals(40.0, FullReference.psnr(new Plane(5, 10, a), new Plane(5, 10, b)), 1e-9);
    }

    static Stream<Long> seeds() { return Gen.seeds("ssim", 12); }

    /** SSIM against a plain double loop: the full 2-d window at every valid position. */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void ssimMatchesADirectWindowedComputation(long seed) {
        Gen c = new Gen(seed);
        int h = c.nextInt(11, 24), w = c.nextInt(11, 24);
        double[] x = c.doubles(h * w, 0, 255), y = new double[h * w];
        for (int i = 0; i < y.length; i++) y[i] = Math.min(255, Math.max(0, x[i] + c.nextDouble(-40, 40)));
        double expected = directSsim(x, y, h, w);
        assertEquals(expected, FullReference.ssim(new Plane(h, w, x), new Plane(h, w, y)), 1e-12, h + "x" + w);
    }

    static double directSsim(double[] x, double[] y, int h, int w) {
        double[][] g = new double[11][11];
        double sum = 0;
        for (int i = 0; i < 11; i++) {
            for (int j = 0; j < 11; j++) {
                g[i][j] = Math.exp(-((i - 5) * (i - 5) + (j - 5) * (j - 5)) / (2 * 1.5 * 1.5));
                sum += g[i][j];
            }
        }
        double c1 = 6.5025, c2 = 58.5225, total = 0;
        int n = 0;
        for (int py = 0; py + 11 <= h; py++) {
            for (int px = 0; px + 11 <= w; px++) {
                double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
                for (int i = 0; i < 11; i++) {
                    for (int j = 0; j < 11; j++) {
                        double k = g[i][j] / sum, a = x[(py + i) * w + px + j], b = y[(py + i) * w + px + j];
                        mx += k * a;
                        my += k * b;
                        sxx += k * a * a;
                        syy += k * b * b;
                        sxy += k * a * b;
                    }
                }
                double vx = sxx - mx * mx, vy = syy - my * my, cxy = sxy - mx * my;
                total += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
                n++;
            }
        }
        return total / n;
    }

    @Test
    void lumaIsBt601() {
        float[] rgb = {1f, 0f, 0f, 0.5f, 0f, 1f, 0f, 0.5f, 0f, 0f, 1f, 0.5f};   // 4 pixels: red, green, blue, mid gray
        Plane y = Plane.luma(new Image(3, 1, 4, rgb));
        assertEquals(16 + 65.481, y.get(0, 0), 1e-5);
        assertEquals(16 + 128.553, y.get(0, 1), 1e-5);
        assertEquals(16 + 24.966, y.get(0, 2), 1e-5);
        assertEquals(16 + 0.5 * 219, y.get(0, 3), 1e-5);
        assertEquals(127.5, Plane.luma(new Image(1, 1, 1, new float[] {0.5f})).get(0, 0), 1e-5);
    }

    @Test
    void badInputIsRefusedWithTheSizes() {
        Plane a = new Plane(12, 12, new double[144]), b = new Plane(12, 13, new double[156]);
        var e = assertThrows(IllegalArgumentException.class, () -> FullReference.psnr(a, b));
        assertTrue(e.getMessage().contains("12x12") && e.getMessage().contains("13x12"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FullReference.ssim(a, b));
        Plane small = new Plane(10, 30, new double[300]);
        e = assertThrows(IllegalArgumentException.class, () -> FullReference.ssim(small, small));
        assertTrue(e.getMessage().contains("11x11"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.cropBorder(6));
        assertTrue(e.getMessage().contains("leaves nothing"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.cropBorder(-1));
    }
}
