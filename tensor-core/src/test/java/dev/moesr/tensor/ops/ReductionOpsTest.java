package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ReductionOpsTest {

    static Stream<Long> cases() { return Gen.seeds("reduce", 40); }

    enum Kind { SUM, MEAN, VAR, MAX, MIN }

    /** Reference reduction in double over the dims marked in {@code m}. */
    static Ref reduce(Ref x, boolean[] m, boolean keepDim, Kind kind, int correction) {
        List<Integer> outDims = new ArrayList<>();
        int[] kept = x.shape.clone();
        for (int i = 0; i < m.length; i++) {
            if (m[i]) kept[i] = 1;
            if (!m[i] || keepDim) outDims.add(kept[i]);
        }
        Ref k = Ref.zeros(kept);
        int count = x.numel() / Math.max(1, k.numel());
        double[] best = new double[k.numel()];
        java.util.Arrays.fill(best, kind == Kind.MAX ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY);
        double[] sum = new double[k.numel()];
        for (int i = 0; i < x.numel(); i++) {
            int[] idx = x.index(i);
            for (int d = 0; d < m.length; d++) if (m[d]) idx[d] = 0;
            int o = k.at(idx);
            sum[o] += x.v[i];
            best[o] = kind == Kind.MAX ? Math.max(best[o], x.v[i]) : Math.min(best[o], x.v[i]);
        }
        if (kind == Kind.VAR) {
            double[] ss = new double[k.numel()];
            for (int i = 0; i < x.numel(); i++) {
                int[] idx = x.index(i);
                for (int d = 0; d < m.length; d++) if (m[d]) idx[d] = 0;
                int o = k.at(idx);
                double c = x.v[i] - sum[o] / count;
                ss[o] += c * c;
            }
            for (int o = 0; o < ss.length; o++) k.v[o] = ss[o] / (count - correction);
        } else {
            for (int o = 0; o < k.numel(); o++) {
                k.v[o] = switch (kind) {
                    case SUM -> sum[o];
                    case MEAN -> sum[o] / count;
                    case MAX, MIN -> best[o];
                    case VAR -> throw new AssertionError();
                };
            }
        }
        return new Ref(k.v, outDims.stream().mapToInt(Integer::intValue).toArray());
    }

    private static void check(Kind kind, long seed) {
        Gen g = new Gen(seed);
        int[] s = g.shape(1, 4, 5);
        boolean[] m = new boolean[s.length];
        List<Integer> dims = new ArrayList<>();
        for (int i = 0; i < s.length; i++) {
            if (g.nextBoolean()) { m[i] = true; dims.add(g.nextBoolean() ? i : i - s.length); }
        }
        if (dims.isEmpty()) { m[0] = true; dims.add(0); }
        int[] d = dims.stream().mapToInt(Integer::intValue).toArray();
        boolean keep = g.nextBoolean();
        if (kind == Kind.VAR) {
            // the unbiased variance needs at least two reduced elements
            for (int i = 0; i < s.length; i++) if (m[i]) { s[i] = Math.max(s[i], 2); break; }
        }
        Tensor x = Tensor.of(g.floats(Gen.numel(s), -2, 2), s).requiresGrad();
        int[] fd = d;
        OpCheck.of(kind.name().toLowerCase(), seed).run(in -> switch (kind) {
            case SUM -> in[0].sum(fd, keep);
            case MEAN -> in[0].mean(fd, keep);
            case VAR -> in[0].var(fd, keep, 1);
            case MAX -> { if (fd.length == 1) yield in[0].max(fd[0], keep); yield Reductions.max(in[0], fd, keep); }
            case MIN -> { if (fd.length == 1) yield in[0].min(fd[0], keep); yield Reductions.min(in[0], fd, keep); }
        }, r -> reduce(r[0], m, keep, kind, 1), x);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void sum(long seed) { check(Kind.SUM, seed); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void mean(long seed) { check(Kind.MEAN, seed); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void var(long seed) { check(Kind.VAR, seed); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void max(long seed) { check(Kind.MAX, seed); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases") void min(long seed) { check(Kind.MIN, seed); }

    @Test
    void argmaxAndArgminPickFirstOfTies() {
        Tensor x = Tensor.of(new float[] {1, 5, 5, 0, -2, 7, 7, -2}, 2, 4);
        assertArrayEquals(new float[] {1, 1}, x.argmax(1, false).toFloatArray());
        assertArrayEquals(new float[] {3, 0}, x.argmin(1, false).toFloatArray());
        assertArrayEquals(new int[] {2, 1}, x.argmax(-1, true).dims());
        assertArrayEquals(new float[] {0, 1, 1, 0}, x.argmax(0, false).toFloatArray());
    }

    @Test
    void maxGradientSplitsBetweenTies() {
        Tensor x = Tensor.of(new float[] {3, 1, 3}, 3).requiresGrad();
        x.max().backward();
        assertArrayEquals(new float[] {0.5f, 0, 0.5f}, x.grad().toFloatArray());
    }

    @Test
    void sumOfEmptyIsZero() {
        assertEquals(0f, Tensor.zeros(0, 4).sum().item());
    }
}
