package dev.moesr.tensor;

/**
 * A Philox4x32-10 counter-based generator (Salmon et al., SC'11). A stream is a 64-bit seed
 * (the key) and a 64-bit counter of 128-bit blocks; every block gives four 32-bit words. The
 * CPU and CUDA backends compute the same function, so a tensor drawn at the same seed and
 * counter is bit-identical on both. This object only hands out counter ranges.
 */
public final class Philox {
    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    private final long seed;
    private long counter;

    public Philox(long seed) { this(seed, 0); }

    public Philox(long seed, long counter) {
        this.seed = seed;
        this.counter = counter;
    }

    public long seed() { return seed; }

    /** The next unused block counter (save it with the seed to resume the stream). */
    public long counter() { return counter; }

    /** Reserves blocks for {@code n} values (four per block); returns the first block's counter. */
    public synchronized long reserve(long n) {
        long start = counter;
        counter += (n + 3) / 4;
        return start;
    }

    /**
     * The four words of block {@code (c0, c1, c2, c3)} under key {@code (k0, k1)}, into out[0..3].
     * The block of counter c and seed s is (lo(c), hi(c), 0, 0) under (lo(s), hi(s)).
     */
    public static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int r = 0; r < 10; r++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }
}
