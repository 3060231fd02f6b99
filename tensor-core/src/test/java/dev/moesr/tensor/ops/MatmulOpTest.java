package dev.moesr.tensor.ops;

import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tensor.matmul with NumPy semantics against a double reference, forward and gradients. */
class MatmulOpTest {

    static Stream<Long> cases() { return Gen.seeds("matmul", 60); }

    /** NumPy matmul in double: vectors promoted and their dimension dropped, batch dimensions broadcast. */
    static Ref reference(Ref a, Ref b) {
        int[] as = a.rank() == 1 ? new int[] {1, a.shape[0]} : a.shape;
        int[] bs = b.rank() == 1 ? new int[] {b.shape[0], 1} : b.shape;
        int m = as[as.length - 2], k = as[as.length - 1], n = bs[bs.length - 1];
        int[] batchA = Arrays.copyOf(as, as.length - 2), batchB = Arrays.copyOf(bs, bs.length - 2);
        int[] batch = Shape.broadcast(Shape.of(batchA), Shape.of(batchB)).dims();
        Ref ra = new Ref(a.v, as), rb = new Ref(b.v, bs);
        int[] full = Arrays.copyOf(batch, batch.length + 2);
        full[batch.length] = m;
        full[batch.length + 1] = n;
        Ref out = Ref.zeros(full);
        for (int f = 0; f < out.numel(); f++) {
            int[] idx = out.index(f);
            int i = idx[batch.length], j = idx[batch.length + 1];
            double s = 0;
            for (int p = 0; p < k; p++) {
                idx[batch.length] = i;
                idx[batch.length + 1] = p;
                double x = ra.broadcastGet(idx);
                idx[batch.length] = p;
                idx[batch.length + 1] = j;
                s += x * rb.broadcastGet(idx);
            }
            out.v[f] = s;
        }
        int drop = (a.rank() == 1 ? 1 : 0) + (b.rank() == 1 ? 1 : 0);
        int[] shape = new int[full.length - drop];
        System.arraycopy(batch, 0, shape, 0, batch.length);
        int at = batch.length;
        if (a.rank() != 1) shape[at++] = m;
        if (b.rank() != 1) shape[at] = n;
        return new Ref(out.v, shape);
    }

    /** a @ b^T against the reference product with b transposed in double, forward and gradients, batches broadcasting. */
    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void transposedRightOperandMatchesTheReference(long seed) {
        Gen g = new Gen(seed);
        int m = size(g), k = size(g), n = size(g);
        int[] batch = g.shape(0, 2, 3);
        int[] batchB = g.nextBoolean() ? batch : new int[0];   // sometimes one matrix for the whole batch
        int[] as = Arrays.copyOf(batch, batch.length + 2), bs = Arrays.copyOf(batchB, batchB.length + 2);
        as[batch.length] = m;
        as[batch.length + 1] = k;
        bs[batchB.length] = n;
        bs[batchB.length + 1] = k;
        OpCheck.of("matmulTransposed", seed).run(t -> t[0].matmulTransposed(t[1]), r -> reference(r[0], transposeLast(r[1])),
                g.leaf(as, -1, 1), g.leaf(bs, -1, 1));
    }

    /** r with its last two dimensions swapped, in double. */
    private static Ref transposeLast(Ref r) {
        int[] s = r.shape.clone();
        int rows = s[s.length - 2], cols = s[s.length - 1];
        s[s.length - 2] = cols;
        s[s.length - 1] = rows;
        Ref out = Ref.zeros(s);
        int per = rows * cols;
        for (int b = 0; b < r.numel() / Math.max(1, per); b++) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) out.v[b * per + j * rows + i] = r.v[b * per + i * cols + j];
            }
        }
        return out;
    }

    private static int size(Gen g) {
        // mostly small; sometimes past the GEMM's tile and block edges
        return g.nextInt(0, 4) == 0 ? g.pick(new Integer[] {33, 65, 130}) : g.nextInt(1, 6);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void matchesTheReference(long seed) {
        Gen g = new Gen(seed);
        int m = size(g), k = size(g), n = size(g);
        int rankA = g.nextInt(1, 4), rankB = g.nextInt(1, 4);
        int[] batch = g.shape(0, 2, 3);
        int[] batchA = rankA <= 2 ? new int[0] : Arrays.copyOfRange(batch, Math.max(0, batch.length - (rankA - 2)), batch.length);
        int[] batchB = rankB <= 2 ? new int[0] : g.broadcastPartner(batch);
        if (g.nextBoolean()) batchA = g.broadcastPartner(batchA);
        int[] sa = rankA == 1 ? new int[] {k} : concat(batchA, m, k);
        int[] sb = rankB == 1 ? new int[] {k} : concat(batchB, k, n);
        if (Shape.of(sa).numel() * Shape.of(sb).numel() > 40_000) {   // keep the double reference quick
            sa = rankA == 1 ? new int[] {k} : new int[] {Math.min(m, 6), k};
            sb = rankB == 1 ? new int[] {k} : concat(batchB, k, Math.min(n, 6));
        }
        Tensor a = g.leaf(sa, -1, 1), b = g.leaf(sb, -1, 1);
        OpCheck.of("matmul " + Arrays.toString(sa) + " @ " + Arrays.toString(sb), seed)
                .forwardTol(1e-5, 1e-4)
                .run(in -> in[0].matmul(in[1]), r -> reference(r[0], r[1]), a, b);
    }

    private static int[] concat(int[] batch, int r, int c) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }

    @Test
    void vectorTimesVectorIsAScalar() {
        Tensor a = Tensor.of(new float[] {1, 2, 3}, 3), b = Tensor.of(new float[] {4, 5, 6}, 3);
        Tensor c = a.matmul(b);
        assertArrayEquals(new int[0], c.dims());
        assertArrayEquals(new float[] {32}, c.toFloatArray());
    }

    @Test
    void broadcastBatchesAndSharedMatrices() {
        Gen g = new Gen(5);
        for (int[][] shapes : new int[][][] {
                {{2, 1, 3, 4}, {5, 4, 2}},      // partial broadcast: a expanded along 5
                {{3, 4}, {2, 3, 4, 6}},         // a shared by the whole batch (stride 0)
                {{2, 3, 5, 4}, {4, 7}},         // b shared: one tall product
                {{2, 3, 4}, {4}},               // batched matrix times vector
                {{4}, {2, 4, 3}}}) {            // vector times batched matrix
            Tensor a = g.leaf(shapes[0], -1, 1), b = g.leaf(shapes[1], -1, 1);
            OpCheck.of("matmul " + Arrays.toString(shapes[0]) + " @ " + Arrays.toString(shapes[1]), 5)
                    .run(in -> in[0].matmul(in[1]), r -> reference(r[0], r[1]), a, b);
        }
    }

    @Test
    void emptyDimensions() {
        assertArrayEquals(new float[6], Tensor.zeros(2, 0).matmul(Tensor.zeros(0, 3)).toFloatArray());
        assertArrayEquals(new int[] {0, 3}, Tensor.zeros(0, 2).matmul(Tensor.zeros(2, 3)).dims());
        assertArrayEquals(new int[] {0, 2, 3}, Tensor.zeros(0, 2, 4).matmul(Tensor.zeros(4, 3)).dims());
    }

    @Test
    void mismatchedInnerDimensionsNameBothShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).matmul(Tensor.zeros(4, 5)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 5]"), e.getMessage());
        var v = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(3).matmul(Tensor.zeros(2)));
        assertTrue(v.getMessage().contains("[3]") && v.getMessage().contains("[2]"), v.getMessage());
    }

    @Test
    void batchesThatDoNotBroadcastNameBothShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3, 4).matmul(Tensor.zeros(3, 4, 5)));
        assertTrue(e.getMessage().contains("[2, 3, 4]") && e.getMessage().contains("[3, 4, 5]"), e.getMessage());
    }

    @Test
    void scalarsAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.scalar(2).matmul(Tensor.zeros(2)));
        assertTrue(e.getMessage().contains("rank"), e.getMessage());
    }
}
