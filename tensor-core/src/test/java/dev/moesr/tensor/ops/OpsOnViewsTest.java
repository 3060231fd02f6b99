package dev.moesr.tensor.ops;

import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The ops of this package applied to views (a dim-0 slice sits at an offset inside a larger
 * storage; a reshape shares it), and their temporaries released by scopes.
 */
class OpsOnViewsTest {

    static Stream<Long> cases() { return Gen.seeds("views", 10); }

    /** Rows from..to-1 of x [rows, ...] as a reference array of the given shape. */
    static Ref rows(Ref x, int from, int to, int... shape) {
        int row = x.numel() / x.shape[0];
        return new Ref(java.util.Arrays.copyOfRange(x.v, from * row, to * row), shape);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void softmaxOfARowView(long seed) {
        Gen g = new Gen(seed);
        int n = g.nextInt(3, 5), c = g.nextInt(1, 4);
        OpCheck.of("softmax of view", seed).run(in -> in[0].slice(0, 1, n).softmax(0),
                r -> ReductionOpsTest.softmaxRef(rows(r[0], 1, n, n - 1, c), 0, false), g.leaf(new int[] {n, c}, -2, 2));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void poolAndNormOfABatchView(long seed) {
        Gen g = new Gen(seed);
        int n = 3, c = 2, h = g.nextInt(2, 4), w = g.nextInt(2, 4);
        OpCheck.of("avgPool2d of view", seed).run(in -> in[0].slice(0, 1, 3).avgPool2d(2, 1, 0),
                r -> PoolingTest.pool(rows(r[0], 1, 3, 2, c, h, w), 2, 1, 0, false), g.leaf(new int[] {n, c, h, w}, -1, 1));
        int spatial = h * w;
        OpCheck.of("groupNorm of view", seed).forwardTol(1e-4, 1e-4).run(in -> in[0].slice(0, 2, 3).groupNorm(1, null, null, 1e-5f),
                r -> NormsTest.normalize(rows(r[0], 2, 3, 1, c, h, w), 1e-5, i -> 0, 1, null, null, i -> i / spatial % c),
                g.leaf(new int[] {n, c, h, w}, -1, 1));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void indexingAndPaddingOfReshapedViews(long seed) {
        Gen g = new Gen(seed);
        int a = g.nextInt(2, 4), b = g.nextInt(1, 3);
        float[] idx = IndexingTest.indices(g, 3, a - 1);
        Tensor index = Tensor.of(idx, 3);
        OpCheck.of("indexSelect+pad of views", seed).run(
                in -> in[0].slice(0, 1, a + 1).reshape(a, b).indexSelect(0, index).pad(new int[] {1, 0}, 0.5f),
                r -> {
                    Ref out = Ref.zeros(3, b + 1);
                    for (int j = 0; j < 3; j++) {
                        out.v[j * (b + 1)] = 0.5;
                        for (int k = 0; k < b; k++) out.v[j * (b + 1) + k + 1] = r[0].v[(1 + (int) idx[j]) * b + k];
                    }
                    return out;
                }, g.leaf(new int[] {a + 1, b}, -1, 1));
    }

    /** Forward and backward of every op here inside a scope leave no storage behind but the leaves' gradients. */
    @Test
    void scopesReleaseAllTemporaries() {
        Gen g = new Gen(3);
        Tensor x = g.leaf(new int[] {2, 4, 6, 6}, -1, 1);
        Tensor w = g.leaf(new int[] {4}, -1, 1);
        Tensor table = g.leaf(new int[] {5, 3}, -1, 1);
        Tensor rm = Tensor.zeros(4), rv = Tensor.ones(4);
        Tensor index = Tensor.of(new float[] {1, 4, 1}, 3);
        Tensor z = Tensor.ofComplex(g.floats(2 * 4, -1, 1), 1, 1, 2, 2);
        long before = Backends.cpu().bytesInUse();
        for (int step = 0; step < 3; step++) {
            try (Scope ignored = Scope.open()) {
                Tensor h = x.groupNorm(2, w, null, 1e-5f).batchNorm(rm, rv, null, w, true, 0.1f, 1e-5f);
                h = Tensor.cat(1, h.maxPool2d(2, 2, 0), h.avgPool2d(2, 2, 0)).pixelUnshuffle(3);
                h = h.pad(new int[] {1, 1}, 0).slice(-1, 0, 2).layerNorm(new int[] {2}, null, null, 1e-5f);
                Tensor[] parts = h.softmax(1).logSoftmax(-1).chunk(2, 0);
                Tensor e = Tensor.embedding(table, index).reshape(1, 1, 3, 3).upsampleNearest(2).reshape(6, 6);
                Tensor loss = Tensor.stack(0, parts).sum().add(e.gather(1, Tensor.ones(6, 1)).sum());
                loss.backward();
                z.pad(new int[] {1, 1}, 2).upsampleNearest(2).pixelShuffle(1);
            }
            x.zeroGrad();
            w.zeroGrad();
            table.zeroGrad();
            assertEquals(before, Backends.cpu().bytesInUse(), "bytes in use after step " + step);
        }
    }
}
