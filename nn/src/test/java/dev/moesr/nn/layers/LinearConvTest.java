package dev.moesr.nn.layers;

import dev.moesr.nn.Parameter;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinearConvTest {

    static Stream<Long> cases() { return Gen.seeds("linear-conv", 20); }

    /** Fills a parameter with uniform values of [-1, 1] from the case generator. */
    static void randomise(Parameter p, Gen g) {
        if (p != null) p.assign(g.floats((int) p.numel(), -1, 1));
    }

    /** y[..., o] = b[o] + sum_i x[..., i] w[o, i], in double. */
    static Ref linearRef(Ref x, Ref w, Ref b) {
        int in = w.shape[1], out = w.shape[0];
        int rows = x.numel() / in;
        int[] shape = x.shape.clone();
        shape[shape.length - 1] = out;
        Ref y = Ref.zeros(shape);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b.v[o];
                for (int i = 0; i < in; i++) s += x.v[r * in + i] * w.v[o * in + i];
                y.v[r * out + o] = s;
            }
        }
        return y;
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void linear(long seed) {
        Gen g = new Gen(seed);
        int in = g.nextInt(1, 6), out = g.nextInt(1, 6);
        boolean bias = g.nextBoolean();
        Linear lin = new Linear(in, out, bias, new Philox(seed));
        randomise(lin.weight(), g);
        randomise(lin.bias(), g);
        int[] xs = g.shape(1, 3, 4);
        xs[xs.length - 1] = in;
        Tensor x = g.leaf(xs, -1, 1);
        if (bias) {
            OpCheck.of("Linear", seed).run(t -> lin.forward(t[0]), r -> linearRef(r[0], r[1], r[2]), x, lin.weight().tensor(), lin.bias().tensor());
        } else {
            OpCheck.of("Linear", seed).run(t -> lin.forward(t[0]), r -> linearRef(r[0], r[1], null), x, lin.weight().tensor());
        }
        lin.release();
    }

    @Test
    void linearChecksTheInputWidth() {
        Linear lin = new Linear(3, 2, new Philox(1));
        var e = assertThrows(IllegalArgumentException.class, () -> lin.forward(Tensor.zeros(4, 5)));
        assertTrue(e.getMessage().contains("[4, 5]") && e.getMessage().contains("3"), e.getMessage());
        assertNull(new Linear(3, 2, false, new Philox(1)).bias());
        lin.release();
    }

    /** PyTorch conv2d in double: zero padding, stride, dilation, groups. */
    static Ref convRef(Ref x, Ref w, Ref b, int stride, int pad, int dil, int groups) {
        int n = x.shape[0], cin = x.shape[1], h = x.shape[2], wd = x.shape[3];
        int cout = w.shape[0], cpg = w.shape[1], k = w.shape[2];
        int oh = (h + 2 * pad - dil * (k - 1) - 1) / stride + 1, ow = (wd + 2 * pad - dil * (k - 1) - 1) / stride + 1;
        int opg = cout / groups;
        Ref y = Ref.zeros(n, cout, oh, ow);
        for (int b0 = 0; b0 < n; b0++)
            for (int o = 0; o < cout; o++) {
                int grp = o / opg;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++) {
                        double s = b == null ? 0 : b.v[o];
                        for (int c = 0; c < cpg; c++)
                            for (int ky = 0; ky < k; ky++)
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = oy * stride - pad + ky * dil, ix = ox * stride - pad + kx * dil;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    s += w.get(o, c, ky, kx) * x.get(b0, grp * cpg + c, iy, ix);
                                }
                        y.v[y.at(b0, o, oy, ox)] = s;
                    }
            }
        assert cin == cpg * groups;
        return y;
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void conv2d(long seed) {
        Gen g = new Gen(seed);
        int groups = g.nextInt(1, 2);
        int cin = groups * g.nextInt(1, 3), cout = groups * g.nextInt(1, 2);
        int k = g.pick(new Integer[] {1, 2, 3}), stride = g.nextInt(1, 2), pad = g.nextInt(0, 1), dil = g.nextInt(1, 2);
        int h = g.nextInt(dil * (k - 1) + 1, 6), w = g.nextInt(dil * (k - 1) + 1, 6);
        boolean bias = g.nextBoolean();
        Conv2d conv = new Conv2d(cin, cout, k, stride, pad, dil, groups, bias, new Philox(seed));
        randomise(conv.weight(), g);
        randomise(conv.bias(), g);
        Tensor x = g.leaf(new int[] {g.nextInt(1, 2), cin, h, w}, -1, 1);
        OpCheck check = OpCheck.of("Conv2d k" + k + " s" + stride + " p" + pad + " d" + dil + " g" + groups, seed);
        if (bias) {
            check.run(t -> conv.forward(t[0]), r -> convRef(r[0], r[1], r[2], stride, pad, dil, groups), x, conv.weight().tensor(), conv.bias().tensor());
        } else {
            check.run(t -> conv.forward(t[0]), r -> convRef(r[0], r[1], null, stride, pad, dil, groups), x, conv.weight().tensor());
        }
        conv.release();
    }

    @Test
    void convChecksChannelsAndGroups() {
        assertThrows(IllegalArgumentException.class, () -> new Conv2d(3, 4, 3, 1, 1, 1, 2, true, new Philox(1)));
        assertThrows(IllegalArgumentException.class, () -> new Conv2d(4, 4, 0, 1, 1, new Philox(1)));
        Conv2d conv = new Conv2d(3, 4, 3, 1, 1, new Philox(1));
        var e = assertThrows(IllegalArgumentException.class, () -> conv.forward(Tensor.zeros(1, 2, 5, 5)));
        assertTrue(e.getMessage().contains("[1, 2, 5, 5]") && e.getMessage().contains("3 channels"), e.getMessage());
        assertArrayEquals(new int[] {4, 3, 3, 3}, conv.weight().dims());
        conv.release();
    }
}
