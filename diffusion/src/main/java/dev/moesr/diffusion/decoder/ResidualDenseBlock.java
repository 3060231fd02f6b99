package dev.moesr.diffusion.decoder;

import dev.moesr.nn.Init;
import dev.moesr.nn.Layer;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

/**
 * ESRGAN's residual dense block (BasicSR's ResidualDenseBlock): five 3x3 convolutions conv1..conv5,
 * each seeing the input and all earlier outputs (growth {@code growth} channels each),
 * LeakyReLU 0.2 after the first four; the result is scaled by 0.2 and added to the input.
 * Initialised as BasicSR does: Kaiming-normal weights (fan-in, gain sqrt 2) times 0.1, zero biases.
 */
public class ResidualDenseBlock extends Layer {
    static final float SLOPE = 0.2f;
    static final float RESIDUAL_SCALE = 0.2f;

    public final int channels, growth;
    private final Conv2d[] convs = new Conv2d[5];

    public ResidualDenseBlock(int channels, int growth, Philox rng) {
        if (channels <= 0 || growth <= 0) throw new IllegalArgumentException("ResidualDenseBlock needs positive channels and growth, got " + channels + ", " + growth);
        this.channels = channels;
        this.growth = growth;
        for (int i = 0; i < 5; i++) {
            int out = i == 4 ? channels : growth;
            convs[i] = registerModule("conv" + (i + 1), new Conv2d(channels + i * growth, out, 3, 1, 1, rng));
        }
        try (Scope s = Scope.open()) {
            for (Conv2d c : convs) {
                double std = Math.sqrt(2.0 / Init.fanIn(c.weight().dims())) * 0.1;
                c.weight().assign(Init.normal(rng, Device.CPU, std, c.weight().dims()));
                c.bias().assign(Tensor.zeros(c.outChannels));
            }
        }
    }

    public static long parameterCount(int channels, int growth) {
        long n = 0;
        for (int i = 0; i < 5; i++) {
            int in = channels + i * growth, out = i == 4 ? channels : growth;
            n += (long) in * out * 9 + out;
        }
        return n;
    }

    @Override public Tensor forward(Tensor x) {
        Tensor dense = x;
        for (int i = 0; i < 4; i++) {
            Tensor xi = convs[i].forward(dense).leakyRelu(SLOPE);
            dense = Tensor.cat(1, dense, xi);
        }
        return convs[4].forward(dense).mul(RESIDUAL_SCALE).add(x);
    }

    @Override public String toString() { return "ResidualDenseBlock(" + channels + ", growth " + growth + ")"; }
}
