package dev.moesr.app.infer;

/**
 * Per-channel mean and standard deviation accumulated over values that arrive in pieces (the
 * rows of a tiled decode), in double. The deviation is the unbiased one with an epsilon under
 * the square root, as the colour fix uses it.
 */
final class ChannelMoments {
    private final long[] count;
    private final double[] sum, sumSquares;

    ChannelMoments(int channels) {
        count = new long[channels];
        sum = new double[channels];
        sumSquares = new double[channels];
    }

    /** Adds {@code n} values of channel {@code c} from {@code values[offset ..]}. */
    void add(int c, float[] values, int offset, int n) {
        double s = 0, q = 0;
        for (int i = offset; i < offset + n; i++) {
            double v = values[i];
            s += v;
            q += v * v;
        }
        count[c] += n;
        sum[c] += s;
        sumSquares[c] += q;
    }

    double mean(int c) {
        if (count[c] == 0) throw new IllegalStateException("no values of channel " + c);
        return sum[c] / count[c];
    }

    /** sqrt(unbiased variance + eps); one value has variance 0. */
    double std(int c, double eps) {
        long n = count[c];
        double mean = mean(c);
        double variance = n < 2 ? 0 : Math.max(0, (sumSquares[c] - n * mean * mean) / (n - 1));
        return Math.sqrt(variance + eps);
    }
}
