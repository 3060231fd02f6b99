package dev.moesr.nn.layers;

import dev.moesr.tensor.Philox;
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
import static org.junit.jupiter.api.Assertions.assertThrows;

class ResamplingLayersTest {

    static Stream<Long> cases() { return Gen.seeds("resampling", 15); }

    static Ref nearestRef(Ref x, int s) {
        int n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        Ref y = Ref.zeros(n, c, h * s, w * s);
        for (int i = 0; i < y.numel(); i++) {
            int[] idx = y.index(i);
            y.v[i] = x.get(idx[0], idx[1], idx[2] / s, idx[3] / s);
        }
        return y;
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void upsampleNearest(long seed) {
        Gen g = new Gen(seed);
        int s = g.nextInt(1, 3);
        Tensor x = g.leaf(new int[] {g.nextInt(1, 2), g.nextInt(1, 3), g.nextInt(1, 3), g.nextInt(1, 3)}, -1, 1);
        OpCheck.of("Upsample x" + s, seed).run(t -> new Upsample(s).forward(t[0]), r -> nearestRef(r[0], s), x);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void upsampleWithConvIsNearestThenConv(long seed) {
        Gen g = new Gen(seed);
        int c = g.nextInt(1, 3), co = g.nextInt(1, 3);
        Upsample up = new Upsample(c, co, new Philox(seed));
        LinearConvTest.randomise(up.conv().weight(), g);
        LinearConvTest.randomise(up.conv().bias(), g);
        Tensor x = g.leaf(new int[] {1, c, g.nextInt(1, 3), g.nextInt(1, 3)}, -1, 1);
        OpCheck.of("Upsample+conv", seed).run(t -> up.forward(t[0]),
                r -> LinearConvTest.convRef(nearestRef(r[0], 2), r[1], r[2], 1, 1, 1, 1), x, up.conv().weight().tensor(), up.conv().bias().tensor());
        assertEquals(List.of("conv.weight", "conv.bias"), new ArrayList<>(up.stateDict().keySet()));
        up.release();
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void downsampleByStridedConv(long seed) {
        Gen g = new Gen(seed);
        int c = g.nextInt(1, 3), co = g.nextInt(1, 3);
        Downsample down = Downsample.conv(c, co, new Philox(seed));
        Conv2d conv = (Conv2d) down.op();
        LinearConvTest.randomise(conv.weight(), g);
        LinearConvTest.randomise(conv.bias(), g);
        Tensor x = g.leaf(new int[] {1, c, g.nextInt(2, 6), g.nextInt(2, 6)}, -1, 1);
        OpCheck.of("Downsample conv", seed).run(t -> down.forward(t[0]),
                r -> LinearConvTest.convRef(r[0], r[1], r[2], 2, 1, 1, 1), x, conv.weight().tensor(), conv.bias().tensor());
        assertEquals(List.of("op.weight", "op.bias"), new ArrayList<>(down.stateDict().keySet()));
        down.release();
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void downsampleByAveragePooling(long seed) {
        Gen g = new Gen(seed);
        int h = 2 * g.nextInt(1, 3) + g.nextInt(0, 1), w = 2 * g.nextInt(1, 3) + g.nextInt(0, 1);   // odd sizes drop the last row/column
        Tensor x = g.leaf(new int[] {g.nextInt(1, 2), g.nextInt(1, 3), h, w}, -1, 1);
        OpCheck.of("Downsample avg", seed).run(t -> Downsample.avgPool().forward(t[0]), r -> {
            Ref in = r[0];
            Ref y = Ref.zeros(in.shape[0], in.shape[1], in.shape[2] / 2, in.shape[3] / 2);
            for (int i = 0; i < y.numel(); i++) {
                int[] d = y.index(i);
                y.v[i] = (in.get(d[0], d[1], 2 * d[2], 2 * d[3]) + in.get(d[0], d[1], 2 * d[2] + 1, 2 * d[3])
                        + in.get(d[0], d[1], 2 * d[2], 2 * d[3] + 1) + in.get(d[0], d[1], 2 * d[2] + 1, 2 * d[3] + 1)) / 4;
            }
            return y;
        }, x);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void pixelShuffleAndUnshuffle(long seed) {
        Gen g = new Gen(seed);
        int r = g.nextInt(1, 3), c = g.nextInt(1, 2), h = g.nextInt(1, 3), w = g.nextInt(1, 3);
        Tensor x = g.leaf(new int[] {1, c * r * r, h, w}, -1, 1);
        // out[n, ch, y*r + i, x*r + j] = in[n, ch*r*r + i*r + j, y, x]
        OpCheck.of("PixelShuffle " + r, seed).run(t -> new PixelShuffle(r).forward(t[0]), refs -> {
            Ref in = refs[0];
            Ref y = Ref.zeros(1, c, h * r, w * r);
            for (int k = 0; k < y.numel(); k++) {
                int[] d = y.index(k);
                y.v[k] = in.get(0, d[1] * r * r + (d[2] % r) * r + d[3] % r, d[2] / r, d[3] / r);
            }
            return y;
        }, x);
        Tensor back = new PixelUnshuffle(r).forward(new PixelShuffle(r).forward(x));
        assertArrayEquals(x.toFloatArray(), back.toFloatArray());
    }

    @Test
    void badGeometryIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new PixelShuffle(2).forward(Tensor.zeros(1, 3, 2, 2)));
        assertThrows(IllegalArgumentException.class, () -> new PixelUnshuffle(2).forward(Tensor.zeros(1, 3, 3, 2)));
        assertThrows(IllegalArgumentException.class, () -> new Upsample(2).forward(Tensor.zeros(3, 2, 2)));
        assertThrows(IllegalArgumentException.class, () -> new AvgPool2d(2, 2, 2));
    }
}
