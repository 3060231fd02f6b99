package dev.moesr.diffusion.decoder;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/** ESRGAN's residual-in-residual dense block: rdb1, rdb2, rdb3 in sequence, scaled by 0.2, plus the input. */
public class Rrdb extends Layer {
    private final ResidualDenseBlock rdb1, rdb2, rdb3;

    public Rrdb(int channels, int growth, Philox rng) {
        this.rdb1 = registerModule("rdb1", new ResidualDenseBlock(channels, growth, rng));
        this.rdb2 = registerModule("rdb2", new ResidualDenseBlock(channels, growth, rng));
        this.rdb3 = registerModule("rdb3", new ResidualDenseBlock(channels, growth, rng));
    }

    public static long parameterCount(int channels, int growth) { return 3 * ResidualDenseBlock.parameterCount(channels, growth); }

    @Override public Tensor forward(Tensor x) {
        return rdb3.forward(rdb2.forward(rdb1.forward(x))).mul(ResidualDenseBlock.RESIDUAL_SCALE).add(x);
    }
}
