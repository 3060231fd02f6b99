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
     * Word {@code i} of the stream at (seed, counter): word {@code i % 4} of the block at counter
     * {@code counter + i / 4}. Element i of a tensor drawn at (seed, counter) is made from it.
     */
    public static int word(long seed, long counter, long i) {
        long c = counter + i / 4;
        int[] w = new int[4];
        block((int) c, (int) (c >>> 32), 0, 0, (int) seed, (int) (seed >>> 32), w);
        return w[(int) (i % 4)];
    }

    /**
     * A uniformly random permutation of 0..n-1 drawn from this stream (it advances the counter).
     * The exact rule, so that any implementation can reproduce it: reserve 2(n-1) values, giving
     * counter c; start from the identity p; for step s = 0 .. n-2, with i = n-1-s, take the
     * 64-bit number v = word(2s) * 2^32 + word(2s+1) (words of the stream at (seed, c), unsigned)
     * and j = floor(v * (i+1) / 2^64), a uniform index in [0, i] (bias below n / 2^64); swap
     * p[i] and p[j]. This is the Fisher-Yates shuffle.
     */
    public int[] permutation(int n) {
        if (n < 0) throw new IllegalArgumentException("a permutation needs n >= 0, got " + n);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        if (n < 2) return p;
        long c = reserve(2L * (n - 1));
        int[] w = new int[4];
        long loadedBlock = -1;
        for (int s = 0; s < n - 1; s++) {
            int i = n - 1 - s;
            long hi = 0, lo = 0;
            for (int k = 0; k < 2; k++) {
                long index = 2L * s + k;
                if (index / 4 != loadedBlock) {
                    loadedBlock = index / 4;
                    long b = c + loadedBlock;
                    block((int) b, (int) (b >>> 32), 0, 0, (int) seed, (int) (seed >>> 32), w);
                }
                long word = w[(int) (index % 4)] & 0xFFFFFFFFL;
                if (k == 0) hi = word; else lo = word;
            }
            // floor(v * (i+1) / 2^64) with v = hi * 2^32 + lo, exactly, in 64-bit arithmetic
            long bound = i + 1L;
            int j = (int) ((hi * bound + ((lo * bound) >>> 32)) >>> 32);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
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
