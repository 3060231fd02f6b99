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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ComplexOpsTest {

    static Stream<Long> cases() { return Gen.seeds("complex", 30); }

    /** A complex op on (re, im) pairs in double. */
    @FunctionalInterface
    interface ComplexFn {
        double[] apply(double ar, double ai, double br, double bi);
    }

    /** Shape of the complex elements of a reference (without its trailing 2). */
    static int[] elements(Ref z) { return Arrays.copyOf(z.shape, z.shape.length - 1); }

    static int[] withPair(int[] s) {
        int[] out = Arrays.copyOf(s, s.length + 1);
        out[s.length] = 2;
        return out;
    }

    /** (re, im) of a reference value at a broadcast output index; a real reference has im 0. */
    static double[] at(Ref r, boolean complex, int[] outIdx) {
        if (!complex) return new double[] {r.broadcastGet(outIdx), 0};
        int[] i = Arrays.copyOf(outIdx, outIdx.length + 1);
        double re = r.broadcastGet(i);
        i[outIdx.length] = 1;
        return new double[] {re, r.broadcastGet(i)};
    }

    /** Reference broadcast binary op; operands are complex (trailing 2) when flagged. */
    static Ref broadcast(Ref a, boolean ac, Ref b, boolean bc, ComplexFn f) {
        int[] os = Shape.broadcast(Shape.of(ac ? elements(a) : a.shape), Shape.of(bc ? elements(b) : b.shape)).dims();
        Ref out = Ref.zeros(withPair(os));
        Ref idx = Ref.zeros(os);
        for (int e = 0; e < idx.numel(); e++) {
            int[] i = idx.index(e);
            double[] x = at(a, ac, i), y = at(b, bc, i);
            double[] z = f.apply(x[0], x[1], y[0], y[1]);
            out.v[2 * e] = z[0];
            out.v[2 * e + 1] = z[1];
        }
        return out;
    }

    static Tensor complexLeaf(Gen g, int[] shape, double lo, double hi) {
        return Tensor.ofComplex(g.floats(2 * Gen.numel(shape), lo, hi), shape).requiresGrad();
    }

    static final ComplexFn ADD = (ar, ai, br, bi) -> new double[] {ar + br, ai + bi};
    static final ComplexFn SUB = (ar, ai, br, bi) -> new double[] {ar - br, ai - bi};
    static final ComplexFn MUL = (ar, ai, br, bi) -> new double[] {ar * br - ai * bi, ar * bi + ai * br};

    /** Broadcast binary check; each operand is complex or real as asked. */
    private static void binary(String name, long seed, boolean aComplex, boolean bComplex, java.util.function.BinaryOperator<Tensor> op, ComplexFn f) {
        Gen g = new Gen(seed);
        int[] sa = g.shape(0, 4, 4);
        int[] sb = g.broadcastPartner(sa);
        if (g.nextBoolean()) { int[] t = sa; sa = sb; sb = t; }
        Tensor a = aComplex ? complexLeaf(g, sa, -2, 2) : g.leaf(sa, -2, 2);
        Tensor b = bComplex ? complexLeaf(g, sb, -2, 2) : g.leaf(sb, -2, 2);
        OpCheck.of(name, seed).run(in -> op.apply(in[0], in[1]), r -> broadcast(r[0], aComplex, r[1], bComplex, f), a, b);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void add(long seed) { binary("complex add", seed, true, true, Tensor::add, ADD); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void addReal(long seed) { binary("complex + real", seed, true, false, Tensor::add, ADD); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void sub(long seed) { binary("complex sub", seed, true, true, Tensor::sub, SUB); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void realMinusComplex(long seed) { binary("real - complex", seed, false, true, Tensor::sub, SUB); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void mul(long seed) { binary("complex mul", seed, true, true, Tensor::mul, MUL); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void mulByReal(long seed) { binary("complex * real", seed, true, false, Tensor::mul, MUL); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void realTimesComplex(long seed) { binary("real * complex", seed, false, true, Tensor::mul, MUL); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void complexFromParts(long seed) {
        Gen g = new Gen(seed);
        int[] s = g.shape(0, 4, 4);
        OpCheck.of("complex", seed).run(in -> Tensor.complex(in[0], in[1]), r -> {
            Ref out = Ref.zeros(withPair(s));
            for (int i = 0; i < r[0].numel(); i++) {
                out.v[2 * i] = r[0].v[i];
                out.v[2 * i + 1] = r[1].v[i];
            }
            return out;
        }, g.leaf(s, -2, 2), g.leaf(s, -2, 2));
    }

    /** A unary op on complex input, reference on each (re, im) pair giving {@code outFloats} values. */
    private static void unary(String name, long seed, java.util.function.UnaryOperator<Tensor> op, int outFloats,
                              java.util.function.Function<double[], double[]> f, double gap) {
        Gen g = new Gen(seed);
        int[] s = g.shape(0, 4, 4);
        float[] v = g.floats(2 * Gen.numel(s), -2, 2);
        for (int i = 0; i < v.length; i += 2) {
            if (Math.hypot(v[i], v[i + 1]) < gap) v[i] = (float) gap + 1;   // away from |z| = 0 where abs has a kink
        }
        Tensor z = Tensor.ofComplex(v, s).requiresGrad();
        OpCheck.of(name, seed).run(in -> op.apply(in[0]), r -> {
            Ref out = Ref.zeros(outFloats == 2 ? withPair(s) : s);
            for (int i = 0; i < Gen.numel(s); i++) {
                double[] y = f.apply(new double[] {r[0].v[2 * i], r[0].v[2 * i + 1]});
                System.arraycopy(y, 0, out.v, outFloats * i, outFloats);
            }
            return out;
        }, z);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void real(long seed) { unary("real", seed, Tensor::real, 1, p -> new double[] {p[0]}, 0); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void imag(long seed) { unary("imag", seed, Tensor::imag, 1, p -> new double[] {p[1]}, 0); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void conj(long seed) { unary("conj", seed, Tensor::conj, 2, p -> new double[] {p[0], -p[1]}, 0); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void scale(long seed) { unary("scale", seed, z -> z.mul(-1.75f), 2, p -> new double[] {-1.75 * p[0], -1.75 * p[1]}, 0); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void abs(long seed) { unary("complex abs", seed, Tensor::abs, 1, p -> new double[] {Math.hypot(p[0], p[1])}, 0.2); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void squareOfOneLeafAccumulatesItsGradient(long seed) {
        unary("z * z", seed, z -> z.mul(z), 2, p -> new double[] {p[0] * p[0] - p[1] * p[1], 2 * p[0] * p[1]}, 0);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void permute(long seed) {
        Gen g = new Gen(seed);
        int[] s = g.shape(2, 4, 4);
        int[] order = new int[s.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        for (int i = order.length - 1; i > 0; i--) { int j = g.nextInt(0, i); int t = order[i]; order[i] = order[j]; order[j] = t; }
        OpCheck.of("complex permute", seed).run(in -> in[0].permute(order), r -> {
            int[] os = new int[s.length];
            for (int i = 0; i < s.length; i++) os[i] = s[order[i]];
            Ref out = Ref.zeros(withPair(os));
            Ref idx = Ref.zeros(os);
            for (int e = 0; e < idx.numel(); e++) {
                int[] oi = idx.index(e);
                int[] ii = new int[s.length + 1];
                for (int k = 0; k < s.length; k++) ii[order[k]] = oi[k];
                out.v[2 * e] = r[0].get(ii);
                ii[s.length] = 1;
                out.v[2 * e + 1] = r[0].get(ii);
            }
            return out;
        }, complexLeaf(g, s, -2, 2));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void reshapeThenMultiply(long seed) {
        Gen g = new Gen(seed);
        int[] s = {g.nextInt(1, 4), g.nextInt(1, 4), g.nextInt(1, 4)};
        int n = Gen.numel(s);
        Tensor z = complexLeaf(g, s, -2, 2), c = complexLeaf(g, new int[] {n}, -2, 2);
        OpCheck.of("complex reshape", seed).run(in -> in[0].reshape(n).mul(in[1]), r -> broadcast(
                new Ref(r[0].v, n, 2), true, r[1], true, MUL), z, c);
    }

    @Test
    void absGradientIsZeroAtZero() {
        Tensor z = Tensor.ofComplex(new float[] {0, 0, 3, 4}, 2).requiresGrad();
        z.abs().sum().backward();
        assertArrayEquals(new float[] {0, 0, 0.6f, 0.8f}, z.grad().toFloatArray(), 1e-7f);
    }

    @Test
    void partsRoundTrip() {
        Tensor z = Tensor.ofComplex(new float[] {1, 2, 3, 4, 5, 6}, 3);
        assertArrayEquals(new float[] {1, 3, 5}, z.real().toFloatArray());
        assertArrayEquals(new float[] {2, 4, 6}, z.imag().toFloatArray());
        assertArrayEquals(z.toFloatArray(), Tensor.complex(z.real(), z.imag()).toFloatArray());
        assertArrayEquals(new float[] {1, -2, 3, -4, 5, -6}, z.conj().toFloatArray());
    }

    @Test
    void emptyComplexTensorsWork() {
        Tensor z = Tensor.complex(Tensor.zeros(0, 3), Tensor.zeros(0, 3));
        assertEquals(0, z.real().numel());
        assertEquals(0, z.conj().mul(z).abs().numel());
    }

    @Test
    void badInputSaysWhatWasWrong() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.complex(Tensor.zeros(2, 3), Tensor.zeros(3, 2)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2).real());
        assertTrue(e.getMessage().contains("complex"), e.getMessage());
        Tensor z = Tensor.ofComplex(new float[4], 2);
        e = assertThrows(IllegalArgumentException.class, () -> z.add(Tensor.ofComplex(new float[6], 3)));
        assertTrue(e.getMessage().contains("[2]") && e.getMessage().contains("[3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> z.exp());
        assertTrue(e.getMessage().contains("complex"), e.getMessage());
    }
}
