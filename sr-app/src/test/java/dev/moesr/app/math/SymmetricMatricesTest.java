package dev.moesr.app.math;

import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class SymmetricMatricesTest {

    static Stream<Long> seeds() { return Gen.seeds("symmetric", 10); }

    /** A random symmetric n x n matrix of rank {@code rank}: sum of rank outer products with random signs. */
    static double[][] randomSymmetric(Gen c, int n, int rank) {
        double[][] m = new double[n][n];
        for (int r = 0; r < rank; r++) {
            double[] v = c.doubles(n, -1, 1);
            double s = c.nextDouble(0.1, 3) * (c.nextBoolean() ? 1 : -1);
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) m[i][j] += s * v[i] * v[j];
        }
        return m;
    }

    static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length, k = b.length, m = b[0].length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) for (int l = 0; l < k; l++) for (int j = 0; j < m; j++) out[i][j] += a[i][l] * b[l][j];
        return out;
    }

    static void assertMatrixEquals(double[][] expected, double[][] got, double tol, String what) {
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[i].length; j++) assertEquals(expected[i][j], got[i][j], tol, what + " at (" + i + ", " + j + ")");
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void eigenvectorsAreOrthonormalAndReconstructTheMatrix(long seed) {
        Gen c = new Gen(seed);
        int n = c.nextInt(1, 12);
        double[][] a = randomSymmetric(c, n, n);
        SymmetricMatrices.Eigen e = SymmetricMatrices.eigen(a);
        double[][] v = e.vectors();
        double[][] vtv = new double[n][n], rebuilt = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < n; k++) {
                    vtv[i][j] += v[k][i] * v[k][j];
                    rebuilt[i][j] += v[i][k] * e.values()[k] * v[j][k];
                }
            }
        }
        double[][] identity = new double[n][n];
        for (int i = 0; i < n; i++) identity[i][i] = 1;
        assertMatrixEquals(identity, vtv, 1e-12, "V^T V");
        assertMatrixEquals(a, rebuilt, 1e-10, "V diag V^T");
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void pseudoInverseSatisfiesThePenroseConditionsOnSingularMatrices(long seed) {
        Gen c = new Gen(seed);
        int n = c.nextInt(2, 12), rank = c.nextInt(1, n);
        double[][] a = randomSymmetric(c, n, rank);
        double[][] p = SymmetricMatrices.pseudoInverse(a);
        assertMatrixEquals(a, multiply(multiply(a, p), a), 1e-9, "A A+ A = A (rank " + rank + " of " + n + ")");
        assertMatrixEquals(p, multiply(multiply(p, a), p), 1e-7 * norm(p), "A+ A A+ = A+");
    }

    private static double norm(double[][] m) {
        double s = 0;
        for (double[] r : m) for (double v : r) s = Math.max(s, Math.abs(v));
        return Math.max(1, s);
    }

    @Test
    void invertibleMatricesGetTheirInverse() {
        double[][] a = {{4, 1}, {1, 3}};
        double[][] p = SymmetricMatrices.pseudoInverse(a);
        assertMatrixEquals(new double[][] {{3 / 11.0, -1 / 11.0}, {-1 / 11.0, 4 / 11.0}}, p, 1e-15, "inverse");
    }

    @Test
    void nonSymmetricOrNonSquareMatricesAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> SymmetricMatrices.eigen(new double[][] {{1, 2}, {3, 4}}));
        assertTrue(e.getMessage().contains("not symmetric"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SymmetricMatrices.eigen(new double[][] {{1, 2}}));
    }
}
