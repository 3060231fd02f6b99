package dev.moesr.app.metrics;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.MatlabResize;
import dev.moesr.app.math.SpecialFunctions;
import dev.moesr.app.math.SymmetricMatrices;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * NIQE, the no-reference "naturalness" score (Mittal et al. 2013; lower is more natural), as
 * BasicSR computes it: luma rounded to whole numbers, 96x96 blocks, two scales (the second by
 * MATLAB bicubic 0.5), 18 features per block and scale from generalised Gaussian and
 * asymmetric generalised Gaussian fits of the normalised luminance and of its products with
 * four shifted copies, and the distance of their mean to the pristine model with the
 * pseudo-inverse of the averaged covariance. All in float64.
 */
public final class Niqe {
    public static final int BLOCK = 96;
    /** Features per block and scale. */
    public static final int FEATURES = 18;
    private static final String PARAMS_RESOURCE = "niqe_pris_params.npz";

    private final double[] muPristine;
    private final double[][] covPristine;
    private final double[][] window;

    public Niqe(double[] muPristine, double[][] covPristine, double[][] window) {
        if (muPristine.length != 2 * FEATURES || covPristine.length != 2 * FEATURES) {
            throw new IllegalArgumentException("the NIQE model needs " + 2 * FEATURES + " means and a " + 2 * FEATURES + "x" + 2 * FEATURES
                    + " covariance, got " + muPristine.length + " and " + covPristine.length + " rows");
        }
        if (window.length % 2 == 0 || window.length != window[0].length) {
            throw new IllegalArgumentException("the NIQE window must be square with an odd side, got " + window.length + "x" + window[0].length);
        }
        this.muPristine = muPristine.clone();
        this.covPristine = covPristine;
        this.window = window;
    }

    private static volatile Niqe standard;

    /** The model BasicSR uses (parameters of the LIVE NIQE release), from the bundled npz. */
    public static Niqe standard() {
        Niqe n = standard;
        if (n == null) {
            try (InputStream in = Niqe.class.getResourceAsStream(PARAMS_RESOURCE)) {
                if (in == null) throw new IOException("resource " + PARAMS_RESOURCE + " is missing from the jar");
                n = fromNpz(Npz.read(in, PARAMS_RESOURCE));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load the NIQE parameters: " + e.getMessage(), e);
            }
            standard = n;
        }
        return n;
    }

    static Niqe fromNpz(Map<String, Npz.Array> arrays) {
        for (String key : new String[] {"mu_pris_param", "cov_pris_param", "gaussian_window"}) {
            if (!arrays.containsKey(key)) throw new IllegalArgumentException("the NIQE parameter file lacks '" + key + "' (it has " + arrays.keySet() + ")");
        }
        return new Niqe(arrays.get("mu_pris_param").values(), arrays.get("cov_pris_param").matrix(),
                arrays.get("gaussian_window").matrix());
    }

    /** NIQE of an image: its luma (see {@link Plane#luma}), {@code crop} border pixels removed, rounded. */
    public double score(Image image, int crop) {
        return score(Plane.luma(image).cropBorder(crop).rounded());
    }

    /**
     * NIQE of a plane in the 0..255 range (used as given: round it first to match BasicSR).
     * Needs at least two 96x96 blocks with finite features.
     */
    public double score(Plane plane) {
        int blocksH = plane.height() / BLOCK, blocksW = plane.width() / BLOCK;
        if (blocksH * blocksW < 2) {
            throw new IllegalArgumentException("NIQE needs at least two " + BLOCK + "x" + BLOCK + " blocks; the image is "
                    + plane.width() + "x" + plane.height());
        }
        int h = blocksH * BLOCK, w = blocksW * BLOCK;
        double[] img = new double[h * w];
        for (int y = 0; y < h; y++) System.arraycopy(plane.values(), y * plane.width(), img, y * w, w);

        int blocks = blocksH * blocksW;
        double[][] features = new double[blocks][2 * FEATURES];
        for (int scale = 1; scale <= 2; scale++) {
            double[] normalised = normalise(img, h, w);
            int bh = BLOCK / scale, bw = BLOCK / scale, b = 0;
            for (int bx = 0; bx < blocksW; bx++) {
                for (int by = 0; by < blocksH; by++, b++) {
                    double[] block = new double[bh * bw];
                    for (int y = 0; y < bh; y++) System.arraycopy(normalised, (by * bh + y) * w + bx * bw, block, y * bw, bw);
                    System.arraycopy(blockFeatures(block, bh, bw), 0, features[b], (scale - 1) * FEATURES, FEATURES);
                }
            }
            if (scale == 1) {
                double[] scaled = new double[img.length];
                for (int i = 0; i < img.length; i++) scaled[i] = img[i] / 255;
                img = MatlabResize.resize(scaled, 1, h, w, 0.5);
                for (int i = 0; i < img.length; i++) img[i] *= 255;
                h = (h + 1) / 2;
                w = (w + 1) / 2;
            }
        }
        return distance(features);
    }

    /** The distance of the blocks' feature statistics to the pristine model (Eq. 10 of the paper). */
    double distance(double[][] features) {
        int n = 2 * FEATURES;
        // mean ignoring NaN per feature; covariance over the blocks whose features are all finite
        double[] mean = new double[n];
        for (int f = 0; f < n; f++) {
            double s = 0;
            int count = 0;
            for (double[] row : features) {
                if (!Double.isNaN(row[f])) {
                    s += row[f];
                    count++;
                }
            }
            mean[f] = count == 0 ? Double.NaN : s / count;
        }
        List<double[]> finite = new ArrayList<>();
        for (double[] row : features) {
            boolean ok = true;
            for (double v : row) ok &= !Double.isNaN(v);
            if (ok) finite.add(row);
        }
        if (finite.size() < 2) {
            throw new IllegalArgumentException("NIQE is undefined here: only " + finite.size() + " of " + features.length
                    + " blocks have finite statistics (is the image flat?)");
        }
        double[] finiteMean = new double[n];
        for (double[] row : finite) for (int f = 0; f < n; f++) finiteMean[f] += row[f] / finite.size();
        double[][] avgCov = new double[n][n];
        for (double[] row : finite) {
            for (int i = 0; i < n; i++) {
                double di = row[i] - finiteMean[i];
                for (int j = 0; j < n; j++) avgCov[i][j] += di * (row[j] - finiteMean[j]);
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) avgCov[i][j] = (covPristine[i][j] + avgCov[i][j] / (finite.size() - 1)) / 2;
        }
        double[][] inv = SymmetricMatrices.pseudoInverse(avgCov);
        double q = 0;
        for (int i = 0; i < n; i++) {
            double di = muPristine[i] - mean[i];
            for (int j = 0; j < n; j++) q += di * inv[i][j] * (muPristine[j] - mean[j]);
        }
        return Math.sqrt(q);
    }

    /**
     * The mean-subtracted, contrast-normalised image (Eq. 1 of the paper): (I - mu) / (sigma + 1)
     * with mu and sigma from the Gaussian window, edges extended by repetition.
     */
    double[] normalise(double[] img, int h, int w) {
        double[] sq = new double[img.length];
        for (int i = 0; i < img.length; i++) sq[i] = img[i] * img[i];
        double[] mu = convolveNearest(img, h, w), mu2 = convolveNearest(sq, h, w);
        double[] out = new double[img.length];
        for (int i = 0; i < img.length; i++) {
            double sigma = Math.sqrt(Math.abs(mu2[i] - mu[i] * mu[i]));
            out[i] = (img[i] - mu[i]) / (sigma + 1);
        }
        return out;
    }

    /** 2-d convolution with the window, out-of-range positions taking the nearest edge value. */
    private double[] convolveNearest(double[] img, int h, int w) {
        int k = window.length, r = k / 2;
        double[] out = new double[img.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double s = 0;
                for (int a = 0; a < k; a++) {
                    int sy = Math.min(h - 1, Math.max(0, y + r - a));
                    for (int b = 0; b < k; b++) {
                        int sx = Math.min(w - 1, Math.max(0, x + r - b));
                        s += window[a][b] * img[sy * w + sx];
                    }
                }
                out[y * w + x] = s;
            }
        }
        return out;
    }

    /** The 18 features of one block: GGD shape and scale, then for four neighbour products AGGD shape, mean, left and right scale. */
    static double[] blockFeatures(double[] block, int h, int w) {
        double[] f = new double[FEATURES];
        double[] p = aggd(block);
        f[0] = p[0];
        f[1] = (p[1] + p[2]) / 2;
        int[][] shifts = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};
        double[] product = new double[block.length];
        for (int s = 0; s < shifts.length; s++) {
            int dy = shifts[s][0], dx = shifts[s][1];
            // numpy.roll: shifted[y][x] = block[y - dy][x - dx], wrapping around
            for (int y = 0; y < h; y++) {
                int sy = Math.floorMod(y - dy, h);
                for (int x = 0; x < w; x++) product[y * w + x] = block[y * w + x] * block[sy * w + Math.floorMod(x - dx, w)];
            }
            double[] q = aggd(product);
            double alpha = q[0], left = q[1], right = q[2];
            f[2 + 4 * s] = alpha;
            f[3 + 4 * s] = (right - left) * Math.exp(SpecialFunctions.logGamma(2 / alpha) - SpecialFunctions.logGamma(1 / alpha));
            f[4 + 4 * s] = left;
            f[5 + 4 * s] = right;
        }
        return f;
    }

    // The search grid of the shape parameter, 0.2 to 10 by 0.001, built as numpy.arange builds it
    // (start + i * (second - start)), and the ratio r(a) = Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a)) on it.
    private static final double[] SHAPES, RATIOS;

    static {
        double start = 0.2, delta = (0.2 + 0.001) - 0.2;
        int n = (int) Math.ceil((10.001 - 0.2) / 0.001);
        SHAPES = new double[n];
        RATIOS = new double[n];
        for (int i = 0; i < n; i++) {
            double a = start + i * delta;
            SHAPES[i] = a;
            RATIOS[i] = Math.exp(2 * SpecialFunctions.logGamma(2 / a) - SpecialFunctions.logGamma(1 / a) - SpecialFunctions.logGamma(3 / a));
        }
    }

    /**
     * Moment-matching fit of an asymmetric generalised Gaussian: {shape, left scale, right
     * scale}. A side without values gives NaN scales, and the shape falls back to the first grid
     * value, as numpy's argmin over NaN does.
     */
    static double[] aggd(double[] v) {
        double leftSq = 0, rightSq = 0, abs = 0, sq = 0;
        int left = 0, right = 0;
        for (double x : v) {
            if (x < 0) {
                leftSq += x * x;
                left++;
            } else if (x > 0) {
                rightSq += x * x;
                right++;
            }
            abs += Math.abs(x);
            sq += x * x;
        }
        double leftStd = Math.sqrt(leftSq / left), rightStd = Math.sqrt(rightSq / right);
        double g = leftStd / rightStd;
        double meanAbs = abs / v.length;
        double rhat = meanAbs * meanAbs / (sq / v.length);
        double rhatNorm = rhat * (g * g * g + 1) * (g + 1) / ((g * g + 1) * (g * g + 1));
        int best = 0;
        if (!Double.isNaN(rhatNorm)) {
            double bestErr = Double.POSITIVE_INFINITY;
            for (int i = 0; i < RATIOS.length; i++) {
                double e = (RATIOS[i] - rhatNorm) * (RATIOS[i] - rhatNorm);
                if (e < bestErr) {
                    bestErr = e;
                    best = i;
                }
            }
        }
        double alpha = SHAPES[best];
        double k = Math.sqrt(Math.exp(SpecialFunctions.logGamma(1 / alpha) - SpecialFunctions.logGamma(3 / alpha)));
        return new double[] {alpha, leftStd * k, rightStd * k};
    }
}
