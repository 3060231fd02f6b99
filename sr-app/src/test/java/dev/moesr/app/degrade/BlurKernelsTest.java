package dev.moesr.app.degrade;

import dev.moesr.app.degrade.BlurKernels.Shape;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.app.testing.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class BlurKernelsTest {
    private final Fixture fixture = new Fixture("/degrade_fixture.txt");

    @Test
    void everyKernelFamilyMatchesTheNumpyFormulas() {
        int cases = 0;
        for (int i = 0; fixture.has("kernel" + i); i++, cases++) {
            String[] t = fixture.tokens("kernel" + i);
            int size = Integer.parseInt(t[1]);
            double sx = Double.parseDouble(t[2]), sy = Double.parseDouble(t[3]), theta = Double.parseDouble(t[4]), beta = Double.parseDouble(t[5]);
            Shape shape = switch (t[0]) {
                case "gaussian" -> Shape.GAUSSIAN;
                case "generalized" -> Shape.GENERALIZED;
                default -> Shape.PLATEAU;
            };
            Kernel k = BlurKernels.anisotropic(shape, size, sx, sy, theta, beta);
            double[] expected = fixture.doubles("kernel" + i + "_w");
            assertEquals(size * size, k.weights().length);
            for (int j = 0; j < expected.length; j++) assertEquals(expected[j], k.weights()[j], 1e-15, "kernel " + i + " (" + String.join(" ", t) + ") tap " + j);
        }
        assertEquals(8, cases);
    }

    @Test
    void sincKernelsMatchScipy() {
        int cases = 0;
        for (int i = 0; fixture.has("sinc" + i); i++, cases++) {
            String[] t = fixture.tokens("sinc" + i);
            Kernel k = BlurKernels.circularLowpass(Integer.parseInt(t[0]), Double.parseDouble(t[1]));
            double[] expected = fixture.doubles("sinc" + i + "_w");
            for (int j = 0; j < expected.length; j++) assertEquals(expected[j], k.weights()[j], 1e-14, "sinc " + i + " tap " + j);
        }
        assertEquals(4, cases);
    }

    static Stream<Long> seeds() { return Gen.seeds("blur-kernels", 16); }

    /**
     * Each family against its formula written out here with the 2x2 covariance inverted by
     * hand, on random parameters from the StableSR ranges and every kernel size.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void kernelsFollowTheirFormulasSumToOneAndArePointSymmetric(long seed) {
        Gen c = new Gen(seed);
        int size = 7 + 2 * c.nextInt(0, 7);
        double sx = c.nextDouble(0.2, 1.5), sy = c.nextDouble(0.2, 1.5), theta = c.nextDouble(-Math.PI, Math.PI);
        double beta = c.nextDouble(0.5, 2);
        for (Shape shape : Shape.values()) {
            Kernel k = BlurKernels.anisotropic(shape, size, sx, sy, theta, beta);
            assertEquals(size, k.size());
            assertEquals(1.0, k.sum(), 1e-12, shape + " sums to 1");
            double[] ref = referenceKernel(shape, size, sx, sy, theta, beta);
            int r = size / 2;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    assertEquals(ref[y * size + x], k.get(y, x), 1e-14, shape + " at (" + y + ", " + x + ")");
                    assertEquals(k.get(y, x), k.get(2 * r - y, 2 * r - x), 1e-15, "point symmetry");
                    assertTrue(k.get(y, x) >= 0, "no negative weights");
                }
            }
        }
    }

    static double[] referenceKernel(Shape shape, int size, double sx, double sy, double theta, double beta) {
        // Sigma = R diag(sx^2, sy^2) R^T, then its inverse by the 2x2 formula
        double c = Math.cos(theta), s = Math.sin(theta);
        double s00 = c * c * sx * sx + s * s * sy * sy, s01 = c * s * sx * sx - c * s * sy * sy, s11 = s * s * sx * sx + c * c * sy * sy;
        double det = s00 * s11 - s01 * s01;
        double i00 = s11 / det, i01 = -s01 / det, i11 = s00 / det;
        double[] w = new double[size * size];
        double sum = 0;
        int r = size / 2;
        for (int y = -r; y <= r; y++) {
            for (int x = -r; x <= r; x++) {
                double q = x * (i00 * x + i01 * y) + y * (i01 * x + i11 * y);
                double v = switch (shape) {
                    case GAUSSIAN -> Math.exp(-q / 2);
                    case GENERALIZED -> Math.exp(-Math.pow(q, beta) / 2);
                    case PLATEAU -> 1 / (1 + Math.pow(q, beta));
                };
                w[(y + r) * size + x + r] = v;
                sum += v;
            }
        }
        for (int i = 0; i < w.length; i++) w[i] /= sum;
        return w;
    }

    @Test
    void isotropicKernelsHaveTheSymmetriesOfTheSquare() {
        for (Shape shape : Shape.values()) {
            Kernel k = BlurKernels.anisotropic(shape, 11, 1.2, 1.2, 0, 1.3);
            for (int y = 0; y < 11; y++) {
                for (int x = 0; x < 11; x++) {
                    assertEquals(k.get(y, x), k.get(x, y), 1e-16, shape + " transpose");
                    assertEquals(k.get(y, x), k.get(y, 10 - x), 1e-16, shape + " mirror");
                }
            }
        }
        // beta = 1 turns the generalised Gaussian into the Gaussian
        assertArrayEquals(BlurKernels.gaussian(9, 0.7, 1.1, 0.4).weights(), BlurKernels.generalizedGaussian(9, 0.7, 1.1, 0.4, 1).weights(), 1e-16);
    }

    @Test
    void sincKernelsSumToOneAndAreCircular() {
        Kernel k = BlurKernels.circularLowpass(13, 1.3);
        assertEquals(1.0, k.sum(), 1e-12);
        assertEquals(k.get(2, 5), k.get(5, 2), 1e-16);
        assertEquals(k.get(0, 6), k.get(12, 6), 1e-16);
        boolean negative = false;
        for (double w : k.weights()) negative |= w < 0;
        assertTrue(negative, "a sinc kernel has negative lobes (that is what makes ringing)");
    }

    @Test
    void usmWindowIsOpenCvsDefaultGaussian() {
        double[] g = BlurKernels.opencvGaussian1d(51);
        double sum = 0;
        for (double v : g) sum += v;
        assertEquals(1.0, sum, 1e-14);
        // sigma = 0.3 * (25 - 1) + 0.8 = 8
        assertEquals(Math.exp(-1.0 / (2 * 64)), g[26] / g[25], 1e-14);
    }

    @Test
    void paddingAndTrimmingRoundTrip() {
        Kernel k = BlurKernels.gaussian(7, 1, 1, 0);
        Kernel padded = k.padTo(21);
        assertEquals(21, padded.size());
        assertEquals(1.0, padded.sum(), 1e-12);
        assertEquals(k.get(3, 3), padded.get(10, 10));
        assertArrayEquals(k.weights(), padded.trimmed().weights());
        assertTrue(Kernel.identity().padTo(21).isIdentity());
        assertThrows(IllegalArgumentException.class, () -> k.padTo(8));
        assertThrows(IllegalArgumentException.class, () -> new Kernel(4, new double[16]));
        assertThrows(IllegalArgumentException.class, () -> BlurKernels.gaussian(8, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> BlurKernels.gaussian(7, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> BlurKernels.circularLowpass(7, -1));
    }
}
