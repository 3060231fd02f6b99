package dev.moesr.tensor.testing;

import dev.moesr.tensor.Tensor;

import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * The seeded case generator of the property tests (our stand-in for jqwik, see the design
 * notes): one generator per case, made from the case's seed, so a failing case is rerun from
 * the seed printed in its name.
 */
public final class Gen {
    private final SplittableRandom r;
    public final long seed;

    public Gen(long seed) {
        this.seed = seed;
        this.r = new SplittableRandom(seed);
    }

    /**
     * {@code count} seeds for a {@code @ParameterizedTest @MethodSource}, derived from the
     * property's name; set -Dmoesr.cases=N to run more (or fewer) cases per property.
     */
    public static Stream<Long> seeds(String property, int count) {
        int n = Integer.getInteger("moesr.cases", count);
        long base = property.hashCode() * 0x9E3779B97F4A7C15L;
        return LongStream.range(0, n).mapToObj(i -> base + i * 0xBF58476D1CE4E5B9L);
    }

    public int nextInt(int lo, int hiInclusive) {
        long span = (long) hiInclusive - lo + 1;   // long: [0, Integer.MAX_VALUE] has 2^31 values
        return span <= Integer.MAX_VALUE ? lo + r.nextInt((int) span) : (int) (lo + r.nextLong(span));
    }

    public double nextDouble(double lo, double hi) { return lo + (hi - lo) * r.nextDouble(); }

    public boolean nextBoolean() { return r.nextBoolean(); }

    public <T> T pick(T[] options) { return options[r.nextInt(options.length)]; }

    /** A random shape of rank in [minRank, maxRank] with dimensions in [1, maxDim]. */
    public int[] shape(int minRank, int maxRank, int maxDim) {
        int[] s = new int[nextInt(minRank, maxRank)];
        for (int i = 0; i < s.length; i++) s[i] = nextInt(1, maxDim);
        return s;
    }

    /** A shape that broadcasts against {@code s}: some dimensions set to 1, some leading ones dropped. */
    public int[] broadcastPartner(int[] s) {
        int drop = s.length == 0 ? 0 : nextInt(0, s.length);
        int[] out = new int[s.length - drop];
        for (int i = 0; i < out.length; i++) out[i] = nextInt(0, 2) == 0 ? 1 : s[i + drop];
        return out;
    }

    /** Uniform values in [lo, hi]. */
    public float[] floats(int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) nextDouble(lo, hi);
        return v;
    }

    /** Uniform doubles in [lo, hi]. */
    public double[] doubles(int n, double lo, double hi) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = nextDouble(lo, hi);
        return v;
    }

    /** Values in [lo, hi] whose magnitude is at least {@code gap}: keeps inputs off kinks at 0. */
    public float[] floatsAwayFromZero(int n, double lo, double hi, double gap) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double x;
            do { x = nextDouble(lo, hi); } while (Math.abs(x) < gap);
            v[i] = (float) x;
        }
        return v;
    }

    /** A CPU leaf tensor of uniform values that requires grad. */
    public Tensor leaf(int[] shape, double lo, double hi) {
        return Tensor.of(floats(numel(shape), lo, hi), shape).requiresGrad();
    }

    public static int numel(int[] shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }
}
