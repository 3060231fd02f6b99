package dev.moesr.app.testing;

import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * Seeds for the property tests (JUnit {@code @ParameterizedTest @MethodSource}), derived from
 * the property's name, and random values drawn from one case's seed; -Dmoesr.cases=N runs more.
 */
public final class Cases {
    private final SplittableRandom r;

    public Cases(long seed) { this.r = new SplittableRandom(seed); }

    public static Stream<Long> seeds(String property, int count) {
        int n = Integer.getInteger("moesr.cases", count);
        long base = property.hashCode() * 0x9E3779B97F4A7C15L;
        return LongStream.range(0, n).mapToObj(i -> base + i * 0xBF58476D1CE4E5B9L);
    }

    public int nextInt(int lo, int hiInclusive) { return lo + r.nextInt(hiInclusive - lo + 1); }

    public double nextDouble(double lo, double hi) { return lo + (hi - lo) * r.nextDouble(); }

    public boolean nextBoolean() { return r.nextBoolean(); }

    public float[] floats(int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) nextDouble(lo, hi);
        return v;
    }

    public double[] doubles(int n, double lo, double hi) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = nextDouble(lo, hi);
        return v;
    }
}
