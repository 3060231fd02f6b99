package dev.moesr.tensor.ops;

import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.UnaryOp;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every UnaryOp against a double reference, forward and gradient, plus where(). */
class UnaryOpsTest {

    static Stream<Arguments> cases() {
        return Arrays.stream(UnaryOp.values()).flatMap(op -> Gen.seeds("unary " + op, 12).map(seed -> Arguments.of(op, seed)));
    }

    static Stream<Long> seeds() { return Gen.seeds("unary", 20); }

    /** One random case of an op: its scalar parameters and an input range kept off the op's kinks. */
    record Domain(double lo, double hi, float a, float b, double gap, double[] kinks) {
        static Domain of(double lo, double hi, double... kinks) { return new Domain(lo, hi, 0, 0, 0.05, kinks); }

        static Domain withParams(double lo, double hi, float a, float b, double... kinks) { return new Domain(lo, hi, a, b, 0.05, kinks); }
    }

    static Domain domain(UnaryOp op, Gen g) {
        return switch (op) {
            case NEG, EXP, TANH, SQUARE, GELU_ERF, GELU_TANH -> Domain.of(-3, 3);
            case LOG, SQRT -> Domain.of(0.1, 4);
            case RSQRT -> Domain.of(0.2, 4);
            case ABS, RELU -> Domain.of(-3, 3, 0);
            case SIGMOID -> Domain.of(-6, 6);
            case SILU -> Domain.of(-5, 5);
            case RECIPROCAL -> new Domain(-3, 3, 0, 0, 0.3, new double[] {0});   // 1/x is steep near its pole
            case LEAKY_RELU -> Domain.withParams(-3, 3, (float) g.nextDouble(0.01, 0.3), 0, 0);
            case SOFTPLUS -> {
                // the switch to the linear branch sits at x = threshold / beta: cover both sides of it
                float beta = (float) g.nextDouble(0.5, 2), threshold = (float) g.nextDouble(1, 3);
                double edge = (double) threshold / beta;
                yield Domain.withParams(-edge - 3, edge + 3, beta, threshold, edge);
            }
            case CLAMP -> {
                float min = (float) g.nextDouble(-1.5, -0.2), max = (float) g.nextDouble(0.2, 1.5);
                yield Domain.withParams(-3, 3, min, max, min, max);
            }
            case POW_SCALAR -> {
                float e = g.pick(new Float[] {0f, 1f, 2f, 3f, 0.5f, -1.5f, 2.7f});
                // whole exponents take any sign; fractional ones need positive bases
                yield e == Math.rint(e) ? Domain.withParams(-2, 2, e, 0) : Domain.withParams(0.3, 2.5, e, 0);
            }
            case ADD_SCALAR, MUL_SCALAR -> Domain.withParams(-3, 3, (float) g.nextDouble(-2, 2), 0);
            case SOFTSHRINK -> {
                float lambda = (float) g.nextDouble(0.2, 1);
                yield Domain.withParams(-3, 3, lambda, 0, -lambda, lambda);
            }
        };
    }

    /** The reference function in double. */
    static double f(UnaryOp op, double x, double a, double b) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1 / Math.sqrt(x);
            case ABS -> Math.abs(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case SILU -> x / (1 + Math.exp(-x));
            case SQUARE -> x * x;
            case RECIPROCAL -> 1 / x;
            case GELU_ERF -> 0.5 * x * (1 + erf(x / Math.sqrt(2)));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case RELU -> Math.max(x, 0);
            case LEAKY_RELU -> x >= 0 ? x : a * x;
            case SOFTPLUS -> b < a * x ? x : Math.log(1 + Math.exp(a * x)) / a;
            case CLAMP -> x < a ? a : x > b ? b : x;
            case POW_SCALAR -> Math.pow(x, a);
            case ADD_SCALAR -> x + a;
            case MUL_SCALAR -> x * a;
            case SOFTSHRINK -> Math.abs(x) <= a ? 0 : x - Math.signum(x) * a;
        };
    }

    /** erf by its Maclaurin series; accurate to ~1e-13 for |x| <= 3, the range the GELU cases use. */
    static double erf(double x) {
        if (Math.abs(x) > 3) throw new IllegalArgumentException("reference erf is only used for |x| <= 3");
        double term = x, sum = x;
        for (int n = 1; n < 200 && Math.abs(term) > 1e-18; n++) {
            term *= -x * x / n;
            sum += term / (2 * n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    static float[] valuesAvoiding(Gen g, int n, Domain d) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double x;
            boolean near;
            do {
                x = g.nextDouble(d.lo(), d.hi());
                near = false;
                for (double k : d.kinks()) near |= Math.abs(x - k) < d.gap();
            } while (near);
            v[i] = (float) x;
        }
        return v;
    }

    static Tensor apply(UnaryOp op, Tensor x, float a, float b) { return Elementwise.unary(op, x, a, b); }

    static Ref map(Ref x, UnaryOp op, double a, double b) {
        double[] out = new double[x.numel()];
        for (int i = 0; i < out.length; i++) out[i] = f(op, x.v[i], a, b);
        return new Ref(out, x.shape);
    }

    @ParameterizedTest(name = "{0} seed {1}") @MethodSource("cases")
    void unaryOp(UnaryOp op, long seed) {
        Gen g = new Gen(seed);
        Domain d = domain(op, g);
        int[] s = g.shape(0, 4, 5);
        Tensor x = Tensor.of(valuesAvoiding(g, Gen.numel(s), d), s).requiresGrad();
        OpCheck.of(op.name(), seed).run(in -> apply(op, in[0], d.a(), d.b()), r -> map(r[0], op, d.a(), d.b()), x);
    }

    /** The named Tensor methods reach the ops with PyTorch's parameter order and defaults. */
    @Test
    void tensorMethodsRouteToTheirOps() {
        Tensor x = Tensor.of(new float[] {-2.5f, -0.5f, 0.25f, 3f, 25f}, 5);
        float[] v = x.toFloatArray();
        assertClose(v, UnaryOp.SOFTPLUS, 1, 20, x.softplus());
        assertClose(v, UnaryOp.GELU_ERF, 0, 0, x.gelu());
        assertClose(v, UnaryOp.GELU_TANH, 0, 0, x.geluTanh());
        assertClose(v, UnaryOp.CLAMP, -1, 1, x.clamp(-1, 1));
        assertClose(v, UnaryOp.LEAKY_RELU, 0.1, 0, x.leakyRelu(0.1f));
        assertClose(v, UnaryOp.SOFTSHRINK, 0.5, 0, x.softshrink(0.5f));
        assertClose(v, UnaryOp.ADD_SCALAR, -1.5, 0, x.sub(1.5f));
        assertClose(v, UnaryOp.MUL_SCALAR, 0.25, 0, x.div(4f));
        assertClose(v, UnaryOp.POW_SCALAR, 2, 0, x.pow(2f));
    }

    private static void assertClose(float[] x, UnaryOp op, double a, double b, Tensor got) {
        float[] out = got.toFloatArray();
        for (int i = 0; i < x.length; i++) {
            double want = op == UnaryOp.GELU_ERF && Math.abs(x[i]) > 3 ? (x[i] > 0 ? x[i] : 0) : f(op, x[i], a, b);
            assertEquals(want, out[i], 1e-5 + 1e-5 * Math.abs(want), op + " at " + x[i]);
        }
    }

    /** Ops read views like any tensor: a dim-0 slice (a window of a larger storage) and a reshape of it. */
    @ParameterizedTest(name = "seed {0}") @MethodSource("seeds")
    void unaryOnViews(long seed) {
        Gen g = new Gen(seed);
        int rows = g.nextInt(3, 6), cols = g.nextInt(1, 4);
        int from = g.nextInt(1, rows - 2), to = g.nextInt(from + 1, rows - 1);
        Tensor x = g.leaf(new int[] {rows, cols}, -2, 2);
        OpCheck.of("tanh of slice view", seed).run(in -> in[0].slice(0, from, to).reshape(-1).tanh().mul(in[0].slice(0, from, to).reshape(-1).exp()),
                r -> {
                    Ref out = Ref.zeros((to - from) * cols);
                    for (int i = 0; i < out.numel(); i++) {
                        double v = r[0].v[from * cols + i];
                        out.v[i] = Math.tanh(v) * Math.exp(v);
                    }
                    return out;
                }, x);
    }

    @ParameterizedTest @EnumSource(UnaryOp.class)
    void emptyTensorsStayEmpty(UnaryOp op) {
        Tensor x = Tensor.zeros(0, 3).requiresGrad();
        Tensor y = apply(op, x, 0.5f, 2f);
        assertArrayEquals(new int[] {0, 3}, y.dims());
        y.sum().backward();
        assertArrayEquals(new int[] {0, 3}, x.grad().dims());
    }

    // ---- where ------------------------------------------------------------------------------

    @ParameterizedTest(name = "seed {0}") @MethodSource("seeds")
    void where(long seed) {
        Gen g = new Gen(seed);
        int[] s = g.shape(0, 4, 4);
        int[] sc = g.nextBoolean() ? s : g.broadcastPartner(s);
        int[] sa = g.nextBoolean() ? s : g.broadcastPartner(s);
        int[] sb = g.nextBoolean() ? s : g.broadcastPartner(s);
        float[] c = new float[Gen.numel(sc)];
        for (int i = 0; i < c.length; i++) c[i] = g.nextBoolean() ? 1 : 0;
        Tensor cond = Tensor.of(c, sc);
        OpCheck.of("where", seed).run(in -> Tensor.where(in[0], in[1], in[2]), r -> {
            int[] os = Shape.broadcast(Shape.broadcast(Shape.of(r[0].shape), Shape.of(r[1].shape)), Shape.of(r[2].shape)).dims();
            Ref out = Ref.zeros(os);
            for (int i = 0; i < out.numel(); i++) {
                int[] idx = out.index(i);
                out.v[i] = r[0].broadcastGet(idx) != 0 ? r[1].broadcastGet(idx) : r[2].broadcastGet(idx);
            }
            return out;
        }, cond, g.leaf(sa, -2, 2), g.leaf(sb, -2, 2));
    }

    @Test
    void flatRegionsPassNoNaNOrInfinityBack() {
        Tensor x = Tensor.of(new float[] {-1, 2, 5}, 3).requiresGrad();
        Tensor y = x.relu().add(x.clamp(0, 1)).add(x.softshrink(3));
        y.backward(Tensor.of(new float[] {Float.NaN, Float.POSITIVE_INFINITY, 1}, 3));
        float[] g = x.grad().toFloatArray();
        assertEquals(0f, g[0], "relu, clamp and softshrink are all flat at -1: a NaN gradient must not leak");
        assertEquals(Float.POSITIVE_INFINITY, g[1]);
        assertEquals(2f, g[2]);
    }
}
