package dev.moesr.cudakernels;

import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layouts the kernels receive: merging dimensions must not change which element any linear
 * index reaches (the GPU computes offsets as {@link StridedLayout#offset} does).
 */
class StridedLayoutTest {
    static Stream<Long> seeds() { return Gen.seeds("strided-layout", 200); }

    /** Offset of linear index i in the unmerged shape, the plain way. */
    private static long naiveOffset(int[] shape, long[] strides, long i) {
        long off = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            off += (i % shape[d]) * strides[d];
            i /= shape[d];
        }
        return off;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void mergingKeepsEveryOffset(long seed) {
        Gen g = new Gen(seed);
        int[] shape = g.shape(0, 8, 4);
        long[] contiguous = StridedLayout.contiguousStrides(shape);
        // a permuted source (like permute), a broadcast operand, and the contiguous destination
        int[] perm = permutation(g, shape.length);
        long[] permuted = new long[shape.length];
        int[] src = new int[shape.length];
        for (int i = 0; i < shape.length; i++) src[i] = shape[perm[i]];
        long[] srcStrides = StridedLayout.contiguousStrides(src);
        for (int i = 0; i < shape.length; i++) permuted[perm[i]] = srcStrides[i];
        int[] partner = new int[shape.length];
        for (int i = 0; i < shape.length; i++) partner[i] = g.nextBoolean() ? 1 : shape[i];
        long[] broadcast = StridedLayout.broadcastStrides(partner, shape);

        StridedLayout l = StridedLayout.of(shape, permuted, broadcast, contiguous);
        long n = StridedLayout.numel(shape);
        assertEquals(n, l.count);
        assertTrue(l.rank >= 1 && l.rank <= Math.max(1, shape.length), "rank " + l.rank);
        for (long i = 0; i < n; i++) {
            assertEquals(naiveOffset(shape, permuted, i), l.offset(0, i), "permuted operand at " + i);
            assertEquals(naiveOffset(shape, broadcast, i), l.offset(1, i), "broadcast operand at " + i);
            assertEquals(i, l.offset(2, i), "contiguous operand at " + i);
        }
    }

    private static int[] permutation(Gen g, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = g.nextInt(0, i);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Test
    void contiguousShapesMergeToOneDimension() {
        int[] shape = {2, 3, 4, 5, 6, 7, 2, 3, 4, 5};   // rank 10: more than the kernels take, but mergeable
        StridedLayout l = StridedLayout.of(shape, StridedLayout.contiguousStrides(shape));
        assertEquals(1, l.rank);
        assertEquals(StridedLayout.numel(shape), l.shape[0]);
        assertEquals(1, l.strides[0][0]);
    }

    @Test
    void biasBroadcastIsRankTwo() {
        int[] out = {8, 16, 32, 32};
        StridedLayout l = StridedLayout.of(out, StridedLayout.broadcastStrides(new int[] {1, 16, 1, 1}, out));
        // [8, 16, 1024] with strides [0, 1, 0]: batch and spatial merge with nothing but themselves
        assertEquals(3, l.rank);
        assertArrayEquals(new long[] {8, 16, 1024, 0, 0, 0, 0, 0}, l.shape);
        assertArrayEquals(new long[] {0, 1, 0, 0, 0, 0, 0, 0}, l.strides[0]);
    }

    @Test
    void emptyAndScalarShapes() {
        StridedLayout empty = StridedLayout.of(new int[] {3, 0, 2}, new long[] {0, 2, 1});
        assertEquals(0, empty.count);
        StridedLayout scalar = StridedLayout.of(new int[0], new long[0]);
        assertEquals(1, scalar.count);
        assertEquals(1, scalar.rank);
        assertEquals(0, scalar.offset(0, 0));
    }

    @Test
    void unmergeableRankAboveEightIsAClearError() {
        int[] shape = {2, 2, 2, 2, 2, 2, 2, 2, 2};
        long[] reversed = new long[9];
        for (int i = 0; i < 9; i++) reversed[i] = 1L << i;   // every dimension transposed: nothing merges
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StridedLayout.of(shape, reversed));
        assertTrue(e.getMessage().contains("at most 8"), e.getMessage());
    }

    @Test
    void broadcastOfIncompatibleShapesIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StridedLayout.broadcastStrides(new int[] {3, 2}, new int[] {3, 4}));
        assertTrue(e.getMessage().contains("cannot broadcast [3, 2] to [3, 4]"), e.getMessage());
    }
}
