package dev.moesr.tensor.cpu;

import java.lang.ref.SoftReference;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Released arrays of the CPU backend's {@code allocate}, kept for the next allocation of the same
 * length. Every op writes a new output and a model makes the same shapes again and again; a fresh
 * large array costs the JVM a zeroing pass and the collector new memory to map and later reclaim.
 * Pooled arrays are held softly, so the collector takes them back before it would run out of
 * memory; only arrays of at least {@link #MIN_FLOATS} are pooled (smaller ones are cheap), and only
 * those the backend allocated itself (an uploaded array belongs to its caller).
 *
 * <p>A reused array holds old values: {@code allocate}'s contents are undefined. The test suites
 * run with {@code -Dmoesr.cpu.poison=true -Dmoesr.cpu.poolMinFloats=1}: every array is pooled and
 * filled with NaN when reused, so a kernel that reads its output before writing it fails its
 * tests. {@code -Dmoesr.cpu.pool=false} turns pooling off.
 */
final class CpuArrayPool {
    static final int MIN_FLOATS = Integer.getInteger("moesr.cpu.poolMinFloats", 1 << 15);
    private static final boolean ENABLED = !"false".equals(System.getProperty("moesr.cpu.pool"));
    private static final boolean POISON = Boolean.getBoolean("moesr.cpu.poison");

    private final Map<Integer, ArrayDeque<SoftReference<float[]>>> free = new HashMap<>();

    /** A pooled array of exactly {@code n} floats, or a new one. */
    float[] take(int n) {
        if (ENABLED && n >= MIN_FLOATS) {
            float[] a = reuse(n);
            if (a != null) {
                if (POISON) java.util.Arrays.fill(a, Float.NaN);
                return a;
            }
        }
        return new float[n];
    }

    private synchronized float[] reuse(int n) {
        ArrayDeque<SoftReference<float[]>> list = free.get(n);
        while (list != null && !list.isEmpty()) {
            float[] a = list.pop().get();
            if (a != null) return a;   // else the collector took it: try the next
        }
        return null;
    }

    /** Takes back an array that no storage refers to any more. */
    void give(float[] a) {
        if (!ENABLED || a.length < MIN_FLOATS) return;
        synchronized (this) {
            free.computeIfAbsent(a.length, k -> new ArrayDeque<>()).push(new SoftReference<>(a));
        }
    }
}
