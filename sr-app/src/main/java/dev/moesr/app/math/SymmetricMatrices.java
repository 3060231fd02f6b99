package dev.moesr.app.math;

/** Small dense symmetric matrices (row-major double[n][n]): eigen-decomposition and pseudo-inverse. */
public final class SymmetricMatrices {
    private SymmetricMatrices() {}

    /** Eigenvalues and eigenvectors (columns of {@code vectors}) of a symmetric matrix. */
    public record Eigen(double[] values, double[][] vectors) {}

    /**
     * Cyclic Jacobi rotations: slow for large matrices but simple, and accurate to a few ulps
     * for the 36x36 covariance of NIQE, whatever its conditioning.
     */
    public static Eigen eigen(double[][] matrix) {
        int n = matrix.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            if (matrix[i].length != n) throw new IllegalArgumentException("a square matrix is needed, row " + i + " has " + matrix[i].length + " of " + n + " columns");
            a[i] = matrix[i].clone();
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                double d = Math.abs(a[i][j] - a[j][i]), s = Math.abs(a[i][j]) + Math.abs(a[j][i]);
                if (d > 1e-9 * s) throw new IllegalArgumentException("the matrix is not symmetric at (" + i + ", " + j + "): " + a[i][j] + " vs " + a[j][i]);
            }
        }
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) v[i][i] = 1;
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0, diag = 0;
            for (int i = 0; i < n; i++) {
                diag += a[i][i] * a[i][i];
                for (int j = i + 1; j < n; j++) off += a[i][j] * a[i][j];
            }
            if (off <= 1e-32 * diag || off == 0) break;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (a[p][q] == 0) continue;
                    // the rotation that zeroes a[p][q] (the smaller of the two angles, for stability)
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) values[i] = a[i][i];
        return new Eigen(values, v);
    }

    /**
     * The Moore-Penrose pseudo-inverse of a symmetric matrix, as numpy's pinv computes it:
     * eigen-directions whose |eigenvalue| (= singular value) is at most 1e-15 times the largest
     * are dropped.
     */
    public static double[][] pseudoInverse(double[][] matrix) {
        Eigen e = eigen(matrix);
        int n = matrix.length;
        double max = 0;
        for (double l : e.values) max = Math.max(max, Math.abs(l));
        double cutoff = 1e-15 * max;
        double[][] out = new double[n][n];
        for (int k = 0; k < n; k++) {
            double l = e.values[k];
            if (Math.abs(l) <= cutoff) continue;
            double inv = 1 / l;
            for (int i = 0; i < n; i++) {
                double vi = e.vectors[i][k] * inv;
                for (int j = 0; j < n; j++) out[i][j] += vi * e.vectors[j][k];
            }
        }
        return out;
    }
}
