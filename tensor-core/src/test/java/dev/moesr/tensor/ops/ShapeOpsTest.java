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
}
