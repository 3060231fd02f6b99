package dev.moesr.app.degrade;

import java.util.random.RandomGenerator;

/** A closed interval [lo, hi] to draw uniform values from (lo == hi allowed: always lo). */
public record Range(double lo, double hi) {
    public Range {
        if (!(lo <= hi) || !Double.isFinite(lo) || !Double.isFinite(hi)) {
            throw new IllegalArgumentException("a range needs finite lo <= hi, got [" + lo + ", " + hi + "]");
        }
    }

    public static Range of(double lo, double hi) { return new Range(lo, hi); }

    /** lo + (hi - lo) u with u uniform in [0, 1), as numpy.random.uniform draws. */
    public double draw(RandomGenerator rng) {
        return lo + (hi - lo) * rng.nextDouble();
    }

    public boolean contains(double v) { return v >= lo && v <= hi; }

    @Override public String toString() { return "[" + lo + ", " + hi + "]"; }
}
