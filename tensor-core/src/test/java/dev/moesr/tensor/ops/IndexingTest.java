package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IndexingTest {

    static Stream<Long> cases() { return Gen.seeds("indexing", 30); }

    /** Whole-number indices in [0, size), repeats likely. */
    static float[] indices(Gen g, int count, int size) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) v[i] = g.nextInt(0, size - 1);
        return v;
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void indexSelect(long seed) {
        Gen g = new Gen(seed);
        boolean complex = g.nextInt(0, 3) == 0;
        int[] s = g.shape(1, 4, 4);
        int axis = g.nextInt(0, s.length - 1), dim = ShapeOpsTest.spell(g, axis, s.length);
        float[] idx = indices(g, g.nextInt(0, 5), s[axis]);
        Tensor index = Tensor.of(idx, idx.length);
        int[] os = s.clone();
        os[axis] = idx.length;
        // complex tensors select whole (re, im) pairs; the gradient is the adjoint, summed at repeats
        ShapeOpsTest.check("indexSelect", seed, in -> in[0].indexSelect(dim, index),
                r -> ShapeOpsTest.mapRef(r[0], ShapeOpsTest.refShape(os, complex), i -> { i[axis] = (int) idx[i[axis]]; return i; }),
                ShapeOpsTest.input(g, s, complex));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void gather(long seed) {
        Gen g = new Gen(seed);
        int[] s = g.shape(1, 4, 4);
        int axis = g.nextInt(0, s.length - 1), dim = ShapeOpsTest.spell(g, axis, s.length);
        int[] is = new int[s.length];
        for (int d = 0; d < s.length; d++) is[d] = d == axis ? g.nextInt(0, 4) : g.nextInt(1, s[d]);
        float[] idx = indices(g, Gen.numel(is), s[axis]);
        Tensor index = Tensor.of(idx, is);
        Ref indexRef = OpCheck.toRef(index);
        OpCheck.of("gather", seed).run(in -> in[0].gather(dim, index),
                r -> ShapeOpsTest.mapRef(r[0], is, i -> { i[axis] = (int) indexRef.get(i); return i; }),
                g.leaf(s, -1, 1));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void embedding(long seed) {
        Gen g = new Gen(seed);
        int num = g.nextInt(1, 6), width = g.nextInt(1, 4);
        int[] is = g.shape(0, 2, 4);
        float[] idx = indices(g, Gen.numel(is), num);
        Tensor index = Tensor.of(idx, is);
        int[] os = java.util.Arrays.copyOf(is, is.length + 1);
        os[is.length] = width;
        OpCheck.of("embedding", seed).run(in -> Tensor.embedding(in[0], index), r -> {
            Ref out = Ref.zeros(os);
            for (int i = 0; i < out.numel(); i++) out.v[i] = r[0].get((int) idx[i / width], i % width);
            return out;
        }, g.leaf(new int[] {num, width}, -1, 1));
    }

    @Test
    void embeddingGradientAddsUpAtRepeatedIndices() {
        Tensor w = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2).requiresGrad();
        Tensor idx = Tensor.of(new float[] {2, 0, 2, 2}, 2, 2);
        Tensor e = Tensor.embedding(w, idx);
        assertArrayEquals(new int[] {2, 2, 2}, e.dims());
        assertArrayEquals(new float[] {5, 6, 1, 2, 5, 6, 5, 6}, e.toFloatArray());
        e.sum().backward();
        assertArrayEquals(new float[] {1, 1, 0, 0, 3, 3}, w.grad().toFloatArray());
    }

    @Test
    void gatherGradientAddsUpAtRepeatedIndices() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad();
        Tensor idx = Tensor.of(new float[] {2, 2, 0, 1}, 2, 2);
        Tensor y = x.gather(1, idx);
        assertArrayEquals(new float[] {3, 3, 4, 5}, y.toFloatArray());
        y.sum().backward();
        assertArrayEquals(new float[] {0, 0, 2, 1, 1, 0}, x.grad().toFloatArray());
    }

    /** Enough rows for the kernels to split the work over threads. */
    @Test
    void largeSelectionsMatchTheReference() {
        Gen g = new Gen(5);
        int outer = 64, axis = 40, inner = 96, count = 50;
        float[] idx = indices(g, count, axis);
        Tensor index = Tensor.of(idx, count);
        OpCheck.of("indexSelect large", 5).run(in -> in[0].indexSelect(1, index), r -> {
            Ref out = Ref.zeros(outer, count, inner);
            for (int o = 0; o < outer; o++) for (int j = 0; j < count; j++) for (int i = 0; i < inner; i++) {
                out.v[(o * count + j) * inner + i] = r[0].get(o, (int) idx[j], i);
            }
            return out;
        }, g.leaf(new int[] {outer, axis, inner}, -1, 1));
    }

    @Test
    void emptyIndexGivesEmptyResult() {
        Tensor x = Tensor.ones(3, 2).requiresGrad();
        Tensor y = x.indexSelect(0, Tensor.zeros(0));
        assertArrayEquals(new int[] {0, 2}, y.dims());
        y.sum().backward();
        assertArrayEquals(new float[6], x.grad().toFloatArray());
        assertArrayEquals(new int[] {0, 2}, Tensor.embedding(x, Tensor.zeros(0)).dims());
        assertArrayEquals(new int[] {3, 0}, x.gather(1, Tensor.zeros(3, 0)).dims());
    }

    @Test
    void badIndicesGetClearErrors() {
        Tensor x = Tensor.zeros(3, 4);
        assertMessage("index 4.0 at position 1", () -> x.indexSelect(1, Tensor.of(new float[] {0, 4}, 2)));
        assertMessage("index -1.0", () -> x.indexSelect(0, Tensor.of(new float[] {-1}, 1)));
        assertMessage("index 0.5", () -> x.indexSelect(0, Tensor.of(new float[] {0.5f}, 1)));
        assertMessage("1-D index", () -> x.indexSelect(0, Tensor.zeros(1, 1)));
        assertMessage("index 3.0", () -> x.gather(0, Tensor.of(new float[] {3}, 1, 1)));
        assertMessage("rank", () -> x.gather(0, Tensor.zeros(2)));
        assertMessage("dimension 1", () -> x.gather(0, Tensor.zeros(2, 5)));
        assertMessage("index 3.0", () -> Tensor.embedding(x, Tensor.of(new float[] {1, 3}, 2)));
        assertMessage("[num, dim]", () -> Tensor.embedding(Tensor.zeros(4), Tensor.zeros(1)));
        assertMessage("complex", () -> x.indexSelect(0, Tensor.ofComplex(new float[] {0, 0}, 1)));
    }

    private static void assertMessage(String text, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(text), "message should mention " + text + ": " + e.getMessage());
    }
}
