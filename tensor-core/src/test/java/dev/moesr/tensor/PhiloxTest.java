package dev.moesr.tensor;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PhiloxTest {

    /** The three philox4x32 10 lines of Random123's tests/kat_vectors: counter[4], key[2], expected[4]. */
    @Test
    void matchesRandom123KnownAnswers() {
        int[][] kat = {
                {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                {-1, -1, -1, -1, -1, -1, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
        };
        for (int[] v : kat) {
            int[] out = new int[4];
            Philox.block(v[0], v[1], v[2], v[3], v[4], v[5], out);
            assertArrayEquals(new int[] {v[6], v[7], v[8], v[9]}, out);
        }
    }

    @Test
    void wordIsTheBlockWordOfItsCounter() {
        long seed = 0x0123456789ABCDEFL, counter = 0xFFFFFFFFL;   // crosses into the high counter word
        int[] w = new int[4];
        for (long i = 0; i < 12; i++) {
            long c = counter + i / 4;
            Philox.block((int) c, (int) (c >>> 32), 0, 0, (int) seed, (int) (seed >>> 32), w);
            assertEquals(w[(int) (i % 4)], Philox.word(seed, counter, i));
        }
    }

    @Test
    void reserveHandsOutWholeBlocks() {
        Philox rng = new Philox(7, 10);
        assertEquals(10, rng.reserve(5));
        assertEquals(12, rng.counter());
        assertEquals(12, rng.reserve(4));
        assertEquals(13, rng.counter());
        assertEquals(13, rng.reserve(0));
        assertEquals(13, rng.counter());
    }

    /** The documented rule, written again from Philox.word. */
    private static int[] referencePermutation(long seed, long counter, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int s = 0; s < n - 1; s++) {
            int i = n - 1 - s;
            java.math.BigInteger v = java.math.BigInteger.valueOf(Philox.word(seed, counter, 2L * s) & 0xFFFFFFFFL).shiftLeft(32)
                    .or(java.math.BigInteger.valueOf(Philox.word(seed, counter, 2L * s + 1) & 0xFFFFFFFFL));
            int j = v.multiply(java.math.BigInteger.valueOf(i + 1L)).shiftRight(64).intValueExact();
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Test
    void permutationFollowsTheDocumentedRule() {
        for (int n : new int[] {0, 1, 2, 3, 5, 17, 256, 1000}) {
            Philox rng = new Philox(99, 3);
            int[] p = rng.permutation(n);
            assertArrayEquals(referencePermutation(99, 3, n), p, "n = " + n);
            assertEquals(3 + (n < 2 ? 0 : (2L * (n - 1) + 3) / 4), rng.counter(), "counter after a permutation of " + n);
            boolean[] seen = new boolean[n];
            for (int v : p) {
                assertTrue(v >= 0 && v < n && !seen[v], "not a permutation at n = " + n);
                seen[v] = true;
            }
        }
    }

    @Test
    void permutationIsDeterministicAndAdvances() {
        Philox a = new Philox(5), b = new Philox(5);
        int[] first = a.permutation(64);
        assertArrayEquals(first, b.permutation(64));
        assertNotEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(a.permutation(64)));
    }

    /** All 24 orders of 4 items come up equally often (chi-square, 23 degrees of freedom). */
    @Test
    void permutationIsUniform() {
        Philox rng = new Philox(2024);
        int draws = 24_000;
        Map<String, Integer> counts = new HashMap<>();
        for (int d = 0; d < draws; d++) counts.merge(java.util.Arrays.toString(rng.permutation(4)), 1, Integer::sum);
        assertEquals(24, counts.size());
        double expected = draws / 24.0, chi2 = 0;
        for (int c : counts.values()) chi2 += (c - expected) * (c - expected) / expected;
        assertTrue(chi2 < 49.7, "chi-square " + chi2 + " above the 0.1% critical value 49.7 for 23 degrees of freedom");
    }

    @Test
    void negativeSizeIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Philox(1).permutation(-3));
        assertTrue(e.getMessage().contains("-3"), e.getMessage());
    }
}
