package dev.moesr.tensor.cpu;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Orthonormal 2-D FFTs of any size over [batch, h, w] (complex storage is interleaved pairs).
 * Rows are transformed, then columns, in double precision; powers of two use radix 2 and other
 * sizes Bluestein's chirp-z algorithm (a convolution done with a power-of-two FFT). Plans
 * (twiddles, chirps) are cached per size. Work is split over slices of the batch, and over rows
 * and columns within a slice when the batch is small.
 */
final class CpuFft {
    private CpuFft() {}

    static void fft2(CpuStorage x, CpuStorage out, int batch, int h, int w, boolean inverse) {
        double scale = 1 / Math.sqrt((double) h * w);
        Plan rows = Plan.of(w), cols = Plan.of(h);
        forEachSlice(batch, h * w, b -> {
            Slab s = new Slab(h, w);
            int in = x.base + 2 * b * h * w;
            for (int i = 0; i < h * w; i++) {
                s.re[i] = x.data[in + 2 * i];
                s.im[i] = x.data[in + 2 * i + 1];
            }
            s.transformRows(rows, inverse);
            s.transformColumns(cols, w, inverse);
            s.storeComplex(out.data, out.base + 2 * b * h * w, h * w, scale);
        });
    }

    static void rfft2(CpuStorage x, CpuStorage out, int batch, int h, int w) {
        double scale = 1 / Math.sqrt((double) h * w);
        int wc = w / 2 + 1;
        Plan rows = Plan.of(w), cols = Plan.of(h);
        forEachSlice(batch, h * w, b -> {
            Slab s = new Slab(h, wc);
            int in = x.base + b * h * w;
            // real rows two at a time: row a as the real part and row b as the imaginary part of one
            // complex transform Z, then A_k = (Z_k + conj Z_{-k}) / 2 and B_k = (Z_k - conj Z_{-k}) / 2i
            Parallel.forRange(h, Math.max(2, 4096 / w), (from, to) -> {
                double[] re = new double[w], im = new double[w];
                double[][] work = rows.newWork();
                int r = from;
                for (; r + 1 < to; r += 2) {
                    for (int c = 0; c < w; c++) {
                        re[c] = x.data[in + r * w + c];
                        im[c] = x.data[in + (r + 1) * w + c];
                    }
                    rows.forward(re, im, work);
                    for (int k = 0; k < wc; k++) {
                        int m = k == 0 ? 0 : w - k;
                        double zr = re[k], zi = im[k], yr = re[m], yi = im[m];
                        s.re[r * wc + k] = (zr + yr) / 2;
                        s.im[r * wc + k] = (zi - yi) / 2;
                        s.re[(r + 1) * wc + k] = (zi + yi) / 2;
                        s.im[(r + 1) * wc + k] = (yr - zr) / 2;
                    }
                }
                if (r < to) {   // an odd row out: alone, with a zero imaginary part
                    for (int c = 0; c < w; c++) {
                        re[c] = x.data[in + r * w + c];
                        im[c] = 0;
                    }
                    rows.forward(re, im, work);
                    System.arraycopy(re, 0, s.re, r * wc, wc);
                    System.arraycopy(im, 0, s.im, r * wc, wc);
                }
            });
            s.transformColumns(cols, wc, false);
            s.storeComplex(out.data, out.base + 2 * b * h * wc, h * wc, scale);
        });
    }

    static void irfft2(CpuStorage x, CpuStorage out, int batch, int h, int w) {
        double scale = 1 / Math.sqrt((double) h * w);
        int wc = w / 2 + 1;
        Plan rows = Plan.of(w), cols = Plan.of(h);
        forEachSlice(batch, h * w, b -> {
            Slab s = new Slab(h, wc);
            int in = x.base + 2 * b * h * wc;
            for (int i = 0; i < h * wc; i++) {
                s.re[i] = x.data[in + 2 * i];
                s.im[i] = x.data[in + 2 * i + 1];
            }
            s.transformColumns(cols, wc, true);
            int o = out.base + b * h * w;
            // each row: the Hermitian extension of its w/2+1 bins, inverse transformed to a real row;
            // as numpy, the imaginary parts of the self-conjugate bins (0, and w/2 for even w) are
            // ignored. Two rows a, b go in one complex inverse of A + iB, whose result is a + ib.
            Parallel.forRange(h, Math.max(2, 4096 / w), (from, to) -> {
                double[] re = new double[w], im = new double[w];
                double[][] work = rows.newWork();
                int r = from;
                for (; r < to; r += 2) {
                    boolean pair = r + 1 < to;
                    for (int k = 0; k < w; k++) {
                        boolean stored = k < wc, selfConjugate = k == 0 || 2 * k == w;
                        int at = stored ? k : w - k;
                        double sign = selfConjugate ? 0 : stored ? 1 : -1;
                        double ar = s.re[r * wc + at], ai = sign * s.im[r * wc + at];
                        double br = pair ? s.re[(r + 1) * wc + at] : 0, bi = pair ? sign * s.im[(r + 1) * wc + at] : 0;
                        re[k] = ar - bi;
                        im[k] = ai + br;
                    }
                    rows.inverse(re, im, work);
                    for (int c = 0; c < w; c++) out.data[o + r * w + c] = (float) (re[c] * scale);
                    if (pair) for (int c = 0; c < w; c++) out.data[o + (r + 1) * w + c] = (float) (im[c] * scale);
                }
            });
        });
    }

    @FunctionalInterface
    private interface SliceBody {
        void run(int slice);
    }

    private static void forEachSlice(int batch, int sliceSize, SliceBody body) {
        Parallel.forRange(batch, Math.max(1, (1 << 15) / Math.max(1, sliceSize)), (from, to) -> {
            for (int b = from; b < to; b++) body.run(b);
        });
    }

    /** One 2-D slice in double precision: h rows of {@code width} complex values. */
    private static final class Slab {
        final int h, width;
        final double[] re, im;

        Slab(int h, int width) {
            this.h = h;
            this.width = width;
            re = new double[h * width];
            im = new double[h * width];
        }

        void transformRows(Plan plan, boolean inverse) {
            Parallel.forRange(h, Math.max(1, 4096 / width), (from, to) -> {
                double[] r = new double[width], i = new double[width];
                double[][] work = plan.newWork();
                for (int row = from; row < to; row++) {
                    System.arraycopy(re, row * width, r, 0, width);
                    System.arraycopy(im, row * width, i, 0, width);
                    plan.transform(r, i, work, inverse);
                    System.arraycopy(r, 0, re, row * width, width);
                    System.arraycopy(i, 0, im, row * width, width);
                }
            });
        }

        /** Transforms the first {@code count} columns (length h each). */
        void transformColumns(Plan plan, int count, boolean inverse) {
            Parallel.forRange(count, Math.max(1, 4096 / h), (from, to) -> {
                double[] r = new double[h], i = new double[h];
                double[][] work = plan.newWork();
                for (int c = from; c < to; c++) {
                    for (int k = 0; k < h; k++) {
                        r[k] = re[k * width + c];
                        i[k] = im[k * width + c];
                    }
                    plan.transform(r, i, work, inverse);
                    for (int k = 0; k < h; k++) {
                        re[k * width + c] = r[k];
                        im[k * width + c] = i[k];
                    }
                }
            });
        }

        void storeComplex(float[] dst, int at, int count, double scale) {
            for (int k = 0; k < count; k++) {
                dst[at + 2 * k] = (float) (re[k] * scale);
                dst[at + 2 * k + 1] = (float) (im[k] * scale);
            }
        }
    }

    /** An unnormalised 1-D DFT of one size n: X_k = sum_j x_j exp(-2 pi i jk / n). */
    static final class Plan {
        private static final Map<Integer, Plan> CACHE = new ConcurrentHashMap<>();

        final int n;
        // radix 2 (n a power of two): cos and sin of 2 pi k / n for k < n/2, bit reversal
        private final double[] cos, sin;
        private final int[] reversed;
        // Bluestein (other n): chirp w_k = exp(-i pi k^2 / n), and the transform of the
        // conjugate chirp laid out for a circular convolution of size m
        private final Plan inner;
        private final double[] chirpRe, chirpIm, kernelRe, kernelIm;

        static Plan of(int n) {
            Plan p = CACHE.get(n);
            if (p == null) {
                p = new Plan(n);          // may create (and cache) the inner power-of-two plan
                Plan raced = CACHE.putIfAbsent(n, p);
                if (raced != null) p = raced;
            }
            return p;
        }

        private Plan(int n) {
            if (n < 1) throw new IllegalArgumentException("FFT size must be at least 1, got " + n);
            this.n = n;
            if (Integer.bitCount(n) == 1) {
                cos = new double[n / 2];
                sin = new double[n / 2];
                for (int k = 0; k < n / 2; k++) {
                    cos[k] = Math.cos(2 * Math.PI * k / n);
                    sin[k] = Math.sin(2 * Math.PI * k / n);
                }
                reversed = new int[n];
                int bits = Integer.numberOfTrailingZeros(n);
                for (int k = 0; k < n; k++) reversed[k] = bits == 0 ? 0 : Integer.reverse(k) >>> (32 - bits);
                inner = null;
                chirpRe = chirpIm = kernelRe = kernelIm = null;
            } else {
                cos = sin = null;
                reversed = null;
                int m = Integer.highestOneBit(2 * n - 1) << 1;
                inner = of(m);
                chirpRe = new double[n];
                chirpIm = new double[n];
                for (int k = 0; k < n; k++) {
                    long k2 = (long) k * k % (2L * n);   // exp(-i pi k^2 / n) has period 2n in k^2: keeps the angle small
                    double angle = Math.PI * k2 / n;
                    chirpRe[k] = Math.cos(angle);
                    chirpIm[k] = -Math.sin(angle);
                }
                kernelRe = new double[m];
                kernelIm = new double[m];
                for (int k = 0; k < n; k++) {
                    kernelRe[k] = chirpRe[k];
                    kernelIm[k] = -chirpIm[k];
                    if (k > 0) {
                        kernelRe[m - k] = chirpRe[k];
                        kernelIm[m - k] = -chirpIm[k];
                    }
                }
                inner.forward(kernelRe, kernelIm, inner.newWork());
            }
        }

        /** Scratch space for one thread's calls (null when none is needed). */
        double[][] newWork() {
            return inner == null ? null : new double[][] {new double[inner.n], new double[inner.n]};
        }

        void transform(double[] re, double[] im, double[][] work, boolean inverse) {
            if (inverse) inverse(re, im, work); else forward(re, im, work);
        }

        /** The unnormalised inverse, via conj(forward(conj(x))). */
        void inverse(double[] re, double[] im, double[][] work) {
            for (int k = 0; k < n; k++) im[k] = -im[k];
            forward(re, im, work);
            for (int k = 0; k < n; k++) im[k] = -im[k];
        }

        void forward(double[] re, double[] im, double[][] work) {
            if (inner == null) radix2(re, im); else bluestein(re, im, work);
        }

        private void radix2(double[] re, double[] im) {
            for (int k = 0; k < n; k++) {
                int j = reversed[k];
                if (j > k) {
                    double t = re[k]; re[k] = re[j]; re[j] = t;
                    t = im[k]; im[k] = im[j]; im[j] = t;
                }
            }
            int len = 2;
            if (n >= 4) {   // the first two stages at once: their twiddles are 1 and -i, no multiplications needed
                for (int a = 0; a < n; a += 4) {
                    double t0r = re[a] + re[a + 1], t0i = im[a] + im[a + 1], t1r = re[a] - re[a + 1], t1i = im[a] - im[a + 1];
                    double t2r = re[a + 2] + re[a + 3], t2i = im[a + 2] + im[a + 3], t3r = re[a + 2] - re[a + 3], t3i = im[a + 2] - im[a + 3];
                    re[a] = t0r + t2r;
                    im[a] = t0i + t2i;
                    re[a + 2] = t0r - t2r;
                    im[a + 2] = t0i - t2i;
                    re[a + 1] = t1r + t3i;   // t1 + (-i) t3
                    im[a + 1] = t1i - t3r;
                    re[a + 3] = t1r - t3i;
                    im[a + 3] = t1i + t3r;
                }
                len = 8;
            }
            for (; len <= n; len <<= 1) {
                int half = len / 2, step = n / len;
                for (int start = 0; start < n; start += len) {
                    for (int j = 0; j < half; j++) {
                        double wr = cos[j * step], wi = -sin[j * step];
                        int a = start + j, b = a + half;
                        double tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr;
                        re[b] = re[a] - tr;
                        im[b] = im[a] - ti;
                        re[a] += tr;
                        im[a] += ti;
                    }
                }
            }
        }

        /** X_k = w_k sum_j (x_j w_j) conj(w_{k-j}): a circular convolution of size m with the conjugate chirp. */
        private void bluestein(double[] re, double[] im, double[][] work) {
            int m = inner.n;
            double[] ar = work[0], ai = work[1];
            java.util.Arrays.fill(ar, 0);
            java.util.Arrays.fill(ai, 0);
            for (int k = 0; k < n; k++) {
                ar[k] = re[k] * chirpRe[k] - im[k] * chirpIm[k];
                ai[k] = re[k] * chirpIm[k] + im[k] * chirpRe[k];
            }
            inner.forward(ar, ai, null);
            for (int k = 0; k < m; k++) {
                double r = ar[k] * kernelRe[k] - ai[k] * kernelIm[k];
                ai[k] = ar[k] * kernelIm[k] + ai[k] * kernelRe[k];
                ar[k] = r;
            }
            inner.inverse(ar, ai, null);
            for (int k = 0; k < n; k++) {
                double cr = ar[k] / m, ci = ai[k] / m;
                re[k] = cr * chirpRe[k] - ci * chirpIm[k];
                im[k] = cr * chirpIm[k] + ci * chirpRe[k];
            }
        }
    }
}
