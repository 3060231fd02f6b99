package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class ShapeOpsTest {

    static Stream<Long> cases() { return Gen.seeds("shape", 30); }

    static Ref permuteRef(Ref x, int[] perm) {
        int[] os = new int[perm.length];
        for (int i = 0; i < perm.length; i++) os[i] = x.shape[perm[i]];
        Ref out = Ref.zeros(os);
        for (int i = 0; i < out.numel(); i++) {
            int[] oi = out.index(i);
            int[] xi = new int[perm.length];
            for (int d = 0; d < perm.length; d++) xi[perm[d]] = oi[d];
            out.v[i] = x.get(xi);
        }
        return out;
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void permute(long seed) {
        Gen g = new Gen(seed);
        int[] s = g.shape(1, 5, 4);
        int[] perm = new int[s.length];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        for (int i = perm.length - 1; i > 0; i--) { int j = g.nextInt(0, i); int t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
        OpCheck.of("permute", seed).run(in -> in[0].permute(perm), r -> permuteRef(r[0], perm), g.leaf(s, -1, 1));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void expand(long seed) {
        Gen g = new Gen(seed);
        int[] target = g.shape(1, 4, 4);
        int[] s = g.broadcastPartner(target);
        OpCheck.of("expand", seed).run(in -> in[0].expand(target), r -> {
            Ref out = Ref.zeros(target);
            for (int i = 0; i < out.numel(); i++) out.v[i] = r[0].broadcastGet(out.index(i));
            return out;
        }, g.leaf(s, -1, 1));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void reshapeThenTranspose(long seed) {
        Gen g = new Gen(seed);
        int a = g.nextInt(1, 4), b = g.nextInt(1, 4), c = g.nextInt(1, 4);
        OpCheck.of("reshape+transpose", seed).run(in -> in[0].reshape(a, b * c).transpose(0, 1).reshape(b, c, a),
                r -> {
                    Ref out = Ref.zeros(b, c, a);
                    for (int i = 0; i < a; i++) for (int j = 0; j < b * c; j++) out.v[j * a + i] = r[0].v[i * b * c + j];
                    return out;
                }, g.leaf(new int[] {a, b, c}, -1, 1));
    }

    @Test
    void reshapeSharesStorageAndInfers() {
        Tensor x = Tensor.arange(6);
        Tensor y = x.reshape(2, -1);
        assertArrayEquals(new int[] {2, 3}, y.dims());
        assertArrayEquals(x.toFloatArray(), y.toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> x.reshape(4, -1));
        assertThrows(IllegalArgumentException.class, () -> x.reshape(-1, -1));
    }

    @Test
    void squeezeAndUnsqueeze() {
        Tensor x = Tensor.zeros(2, 3);
        assertArrayEquals(new int[] {2, 1, 3}, x.unsqueeze(1).dims());
        assertArrayEquals(new int[] {2, 3, 1}, x.unsqueeze(-1).dims());
        assertArrayEquals(new int[] {2, 3}, x.unsqueeze(0).squeeze(0).dims());
        assertThrows(IllegalArgumentException.class, () -> x.squeeze(0));
        assertArrayEquals(new int[] {6}, x.flatten().dims());
    }

    // ---- helpers: index-mapping references and complex cases ---------------------------------

    /** out[i] = x[source(i)], or fill(i) where source gives null (padding). Works on any trailing dims, e.g. the (re, im) axis. */
    static Ref mapRef(Ref x, int[] outShape, UnaryOperator<int[]> source, ToDoubleFunction<int[]> fill) {
        Ref out = Ref.zeros(outShape);
        for (int i = 0; i < out.numel(); i++) {
            int[] oi = out.index(i);
            int[] xi = source.apply(oi.clone());
            out.v[i] = xi == null ? fill.applyAsDouble(oi) : x.get(xi);
        }
        return out;
    }

    static Ref mapRef(Ref x, int[] outShape, UnaryOperator<int[]> source) {
        return mapRef(x, outShape, source, i -> { throw new AssertionError("no padding expected"); });
    }

    /** The shape of a reference array: a complex tensor gets a trailing (re, im) dimension. */
    static int[] refShape(int[] shape, boolean complex) {
        if (!complex) return shape;
        int[] s = Arrays.copyOf(shape, shape.length + 1);
        s[shape.length] = 2;
        return s;
    }

    static Tensor input(Gen g, int[] shape, boolean complex) {
        int n = Gen.numel(shape) * (complex ? 2 : 1);
        float[] v = g.floats(n, -1, 1);
        return complex ? Tensor.ofComplex(v, shape) : Tensor.of(v, shape).requiresGrad();
    }

    /**
     * Checks an op on real inputs with OpCheck, or on complex ones: the forward against the
     * reference, then the gradient for a random complex output gradient against the adjoint of
     * the (affine) reference, probed one input float at a time.
     */
    static void check(String name, long seed, Function<Tensor[], Tensor> op, OpCheck.Reference ref, Tensor... inputs) {
        OpCheck.of(name, seed).run(op, ref, inputs);
        if (!inputs[0].isComplex()) return;
        for (Tensor t : inputs) t.requiresGrad();
        Tensor out = op.apply(inputs);
        Gen g = new Gen(seed ^ 0x2545F4914F6CDD1DL);
        float[] gv = g.floats((int) out.numel() * 2, -1, 1);
        out.backward(Tensor.ofComplex(gv, out.dims()));
        Ref[] r = new Ref[inputs.length];
        for (int i = 0; i < inputs.length; i++) r[i] = OpCheck.toRef(inputs[i]);
        double[] base = ref.apply(r).v;
        for (int i = 0; i < inputs.length; i++) {
            float[] grad = inputs[i].grad().toFloatArray();
            for (int j = 0; j < grad.length; j++) {
                double saved = r[i].v[j];
                r[i].v[j] = saved + 1;
                double[] bumped = ref.apply(r).v;
                r[i].v[j] = saved;
                double want = 0;
                for (int k = 0; k < bumped.length; k++) want += (bumped[k] - base[k]) * gv[k];
                if (Math.abs(want - grad[j]) > 1e-5) {
                    fail(name + " (seed " + seed + "): complex gradient of input " + i + " at float " + j + ": " + grad[j] + ", adjoint " + want);
                }
            }
        }
    }

    /** A dimension index, sometimes written negatively. */
    static int spell(Gen g, int axis, int rank) { return g.nextBoolean() ? axis : axis - rank; }

    // ---- slice and chunk ----------------------------------------------------------------

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void slice(long seed) {
        Gen g = new Gen(seed);
        boolean complex = g.nextInt(0, 3) == 0;
        int[] s = g.shape(1, 4, 5);
        int axis = g.nextInt(0, s.length - 1), size = s[axis];
        int start = g.nextInt(0, size), end = g.nextInt(start, size);
        int st = start < size && g.nextBoolean() ? start - size : start;
        int en = end < size && g.nextBoolean() ? end - size : end;
        int dim = spell(g, axis, s.length);
        int[] os = s.clone();
        os[axis] = end - start;
        check("slice", seed, in -> in[0].slice(dim, st, en), r -> mapRef(r[0], refShape(os, complex), i -> { i[axis] += start; return i; }),
                input(g, s, complex));
    }

    @Test
    void sliceAlongDimZeroIsAView() {
        Tensor x = Tensor.arange(12).reshape(4, 3);
        Tensor rows = x.slice(0, 1, 3);
        assertSame(x.storage().root(), rows.storage().root());
        assertArrayEquals(new float[] {3, 4, 5, 6, 7, 8}, rows.toFloatArray());
        // a slice of a slice is a view at the summed offset
        Tensor inner = rows.slice(0, -1, 2);
        assertSame(x.storage().root(), inner.storage().root());
        assertArrayEquals(new float[] {6, 7, 8}, inner.toFloatArray());
        Tensor cols = x.slice(1, 1, 2);
        assertNotSame(x.storage().root(), cols.storage().root());
        assertArrayEquals(new float[] {1, 4, 7, 10}, cols.toFloatArray());
        assertArrayEquals(new float[] {7}, inner.slice(1, 1, 2).toFloatArray());
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void slicesOfViews(long seed) {
        Gen g = new Gen(seed);
        int a = g.nextInt(2, 4), b = g.nextInt(1, 3), c = g.nextInt(2, 4);
        int from = g.nextInt(1, a - 1);
        int c0 = g.nextInt(0, c - 1);
        // slice a dim-0 view of a reshape along its last dimension, and use both views in one expression
        OpCheck.of("slice of views", seed).run(in -> {
            Tensor rows = in[0].reshape(a, b, c).slice(0, from, a);
            return rows.slice(2, c0, c).mul(rows.slice(2, c0, c)).sum(1, false);
        }, r -> {
            Ref out = Ref.zeros(a - from, c - c0);
            for (int i = 0; i < a - from; i++) for (int j = 0; j < b; j++) for (int k = 0; k < c - c0; k++) {
                double v = r[0].v[((i + from) * b + j) * c + k + c0];
                out.v[i * (c - c0) + k] += v * v;
            }
            return out;
        }, g.leaf(new int[] {a * b * c}, -1, 1));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void chunkThenCatReversed(long seed) {
        Gen g = new Gen(seed);
        boolean complex = g.nextInt(0, 3) == 0;
        int[] s = g.shape(1, 3, 4);
        int axis = g.nextInt(0, s.length - 1);
        int parts = g.nextInt(1, 3);
        s[axis] = parts * g.nextInt(0, 2);
        int step = s[axis] / parts, dim = spell(g, axis, s.length);
        Tensor x = input(g, s, complex);
        Function<Tensor[], Tensor> op = in -> {
            Tensor[] pieces = in[0].chunk(parts, dim);
            assertEquals(parts, pieces.length);
            Tensor[] reversed = new Tensor[parts];
            for (int k = 0; k < parts; k++) reversed[k] = pieces[parts - 1 - k];
            return Tensor.cat(dim, reversed);
        };
        OpCheck.Reference ref = r -> mapRef(r[0], r[0].shape, i -> {
            int block = i[axis] / step, within = i[axis] % step;
            i[axis] = (parts - 1 - block) * step + within;
            return i;
        });
        // the pieces' gradients meet in x; summing complex gradients needs complex add (ComplexOps), so
        // the complex case checks the forward pass only; real cases check the gradient too
        if (complex && parts > 1) OpCheck.of("chunk+cat", seed).run(op, ref, x);
        else check("chunk+cat", seed, op, ref, x);
    }

    // ---- cat and stack ------------------------------------------------------------------

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void cat(long seed) {
        Gen g = new Gen(seed);
        boolean complex = g.nextInt(0, 3) == 0;
        int[] s = g.shape(1, 4, 4);
        int axis = g.nextInt(0, s.length - 1), dim = spell(g, axis, s.length);
        Tensor[] parts = new Tensor[g.nextInt(1, 3)];
        int[] sizes = new int[parts.length];
        for (int k = 0; k < parts.length; k++) {
            int[] sk = s.clone();
            sk[axis] = sizes[k] = g.nextInt(0, 3);   // empty parts included
            parts[k] = input(g, sk, complex);
        }
        check("cat", seed, in -> Tensor.cat(dim, in), r -> {
            int[] os = r[0].shape.clone();
            os[axis] = Arrays.stream(sizes).sum();
            Ref out = Ref.zeros(os);
            for (int i = 0; i < out.numel(); i++) {
                int[] idx = out.index(i);
                int k = 0;
                while (idx[axis] >= sizes[k]) idx[axis] -= sizes[k++];
                out.v[i] = r[k].get(idx);
            }
            return out;
        }, parts);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void stack(long seed) {
        Gen g = new Gen(seed);
        boolean complex = g.nextInt(0, 3) == 0;
        int[] s = g.shape(0, 3, 4);
        int axis = g.nextInt(0, s.length), dim = spell(g, axis, s.length + 1);
        Tensor[] parts = new Tensor[g.nextInt(1, 3)];
        for (int k = 0; k < parts.length; k++) parts[k] = input(g, s, complex);
        check("stack", seed, in -> Tensor.stack(dim, in), r -> {
            int[] os = new int[r[0].rank() + 1];
            for (int i = 0, j = 0; i < os.length; i++) os[i] = i == axis ? r.length : r[0].shape[j++];
            Ref out = Ref.zeros(os);
            for (int i = 0; i < out.numel(); i++) {
                int[] idx = out.index(i);
                int[] src = new int[idx.length - 1];
                for (int d = 0, j = 0; d < idx.length; d++) if (d != axis) src[j++] = idx[d];
                out.v[i] = r[idx[axis]].get(src);
            }
            return out;
        }, parts);
    }

    // ---- pad ----------------------------------------------------------------------------

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void pad(long seed) {
        Gen g = new Gen(seed);
        boolean complex = g.nextInt(0, 3) == 0;
        int[] s = g.shape(1, 4, 3);
        int[] pads = new int[2 * g.nextInt(0, s.length)];
        for (int i = 0; i < pads.length; i++) pads[i] = g.nextInt(0, 2);
        float value = g.nextBoolean() ? 0f : (float) g.nextDouble(-2, 2);
        int[] os = s.clone(), before = new int[s.length];
        for (int i = 0; i < pads.length / 2; i++) {
            int d = s.length - 1 - i;
            os[d] += pads[2 * i] + pads[2 * i + 1];
            before[d] = pads[2 * i];
        }
        check("pad", seed, in -> in[0].pad(pads, value), r -> mapRef(r[0], refShape(os, complex), i -> {
            for (int d = 0; d < s.length; d++) {
                i[d] -= before[d];
                if (i[d] < 0 || i[d] >= s[d]) return null;
            }
            return i;
        }, i -> complex && i[s.length] == 1 ? 0 : value), input(g, s, complex));   // complex padding is value + 0i
    }

    // ---- upsampling and pixel shuffles ------------------------------------------------------

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void upsampleNearest(long seed) {
        Gen g = new Gen(seed);
        boolean complex = g.nextInt(0, 3) == 0;
        int[] s = {g.nextInt(1, 2), g.nextInt(1, 3), g.nextInt(1, 3), g.nextInt(1, 3)};
        int k = g.nextInt(1, 3);
        int[] os = {s[0], s[1], s[2] * k, s[3] * k};
        check("upsampleNearest", seed, in -> in[0].upsampleNearest(k),
                r -> mapRef(r[0], refShape(os, complex), i -> { i[2] /= k; i[3] /= k; return i; }), input(g, s, complex));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void pixelShuffle(long seed) {
        Gen g = new Gen(seed);
        boolean complex = g.nextInt(0, 3) == 0;
        int r = g.nextInt(1, 3);
        int[] s = {g.nextInt(1, 2), g.nextInt(1, 2) * r * r, g.nextInt(1, 3), g.nextInt(1, 3)};
        int[] os = {s[0], s[1] / (r * r), s[2] * r, s[3] * r};
        // out[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w]
        check("pixelShuffle", seed, in -> in[0].pixelShuffle(r), ref -> mapRef(ref[0], refShape(os, complex), i -> {
            int h = i[2], w = i[3];
            i[1] = i[1] * r * r + (h % r) * r + w % r;
            i[2] = h / r;
            i[3] = w / r;
            return i;
        }), input(g, s, complex));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void pixelUnshuffle(long seed) {
        Gen g = new Gen(seed);
        boolean complex = g.nextInt(0, 3) == 0;
        int r = g.nextInt(1, 3);
        int[] s = {g.nextInt(1, 2), g.nextInt(1, 2), g.nextInt(1, 2) * r, g.nextInt(1, 3) * r};
        int[] os = {s[0], s[1] * r * r, s[2] / r, s[3] / r};
        // out[n, c*r*r + i*r + j, h, w] = x[n, c, h*r + i, w*r + j]
        check("pixelUnshuffle", seed, in -> in[0].pixelUnshuffle(r), ref -> mapRef(ref[0], refShape(os, complex), i -> {
            int c = i[1] / (r * r), within = i[1] % (r * r);
            i[1] = c;
            i[2] = i[2] * r + within / r;
            i[3] = i[3] * r + within % r;
            return i;
        }), input(g, s, complex));
    }

    @Test
    void pixelUnshuffleInvertsPixelShuffle() {
        Tensor x = Tensor.arange(2 * 8 * 3 * 2).reshape(2, 8, 3, 2);
        assertArrayEquals(new int[] {2, 2, 6, 4}, x.pixelShuffle(2).dims());
        assertArrayEquals(x.toFloatArray(), x.pixelShuffle(2).pixelUnshuffle(2).toFloatArray());
    }

    // ---- bad input --------------------------------------------------------------------------

    private static void assertRejects(String mustMention, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(mustMention), "message should mention " + mustMention + ": " + e.getMessage());
    }

    @Test
    void badShapesGetClearErrors() {
        Tensor x = Tensor.zeros(2, 5);
        assertRejects("[2, 5]", () -> x.slice(1, 2, 6));
        assertRejects("[2, 5]", () -> x.slice(1, 4, 2));
        assertRejects("[2, 5]", () -> x.slice(0, -3, 1));
        assertRejects("[2, 5]", () -> x.chunk(2, 1));
        assertRejects("[2, 5]", () -> x.chunk(0, 0));
        assertRejects("[3, 4]", () -> Tensor.cat(0, x, Tensor.zeros(3, 4)));
        assertRejects("[2, 5, 1]", () -> Tensor.cat(0, x, Tensor.zeros(2, 5, 1)));
        assertRejects("C64", () -> Tensor.cat(0, x, Tensor.ofComplex(new float[20], 2, 5)));
        assertRejects("at least one", () -> Tensor.cat(0));
        assertRejects("[2, 4]", () -> Tensor.stack(0, x, Tensor.zeros(2, 4)));
        assertRejects("out of range", () -> Tensor.stack(3, x, x));
        assertRejects("negative padding", () -> x.pad(new int[] {1, -1}, 0));
        assertRejects("[2, 5]", () -> x.pad(new int[] {1, 1, 1}, 0));
        assertRejects("[2, 5]", () -> x.pad(new int[] {1, 1, 1, 1, 1, 1}, 0));
        assertRejects("[2, 5]", () -> x.upsampleNearest(2));
        assertRejects("0", () -> Tensor.zeros(1, 1, 2, 2).upsampleNearest(0));
        assertRejects("[1, 3, 2, 2]", () -> Tensor.zeros(1, 3, 2, 2).pixelShuffle(2));
        assertRejects("[1, 1, 3, 4]", () -> Tensor.zeros(1, 1, 3, 4).pixelUnshuffle(2));
    }

    @Test
    void padAndCatKeepTheirValues() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 1, 2, 2);
        assertArrayEquals(new float[] {9, 1, 2, 9, 9, 3, 4, 9}, x.pad(new int[] {1, 1}, 9).toFloatArray());
        assertArrayEquals(new int[] {1, 1, 5, 2}, x.pad(new int[] {0, 0, 2, 1}, 0).dims());
        Tensor c = Tensor.cat(1, Tensor.of(new float[] {1, 2}, 2, 1), Tensor.zeros(2, 0), Tensor.of(new float[] {3, 4, 5, 6}, 2, 2));
        assertArrayEquals(new float[] {1, 3, 4, 2, 5, 6}, c.toFloatArray());
        Tensor z = Tensor.ofComplex(new float[] {1, 2}, 1).pad(new int[] {1, 0}, 7);
        assertArrayEquals(new float[] {7, 0, 1, 2}, z.toFloatArray());
    }
}
