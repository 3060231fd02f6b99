package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.Layer;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.GroupNorm;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * The VQ-GAN residual block without time embedding: x + conv2(swish(norm2(conv1(swish(norm1(x)))))),
 * with a 1x1 projection of x when the width changes. State: norm1, conv1, norm2, conv2 and the
 * projection, named {@code nin_shortcut} in taming's ResnetBlock and {@code conv_out} in the
 * ResBlock of StableSR's CFW module (the only difference between the two).
 */
public class ResnetBlock extends Layer {
    /** taming's name of the 1x1 projection. */
    public static final String NIN_SHORTCUT = "nin_shortcut";

    public final int inChannels, outChannels;
    private final GroupNorm norm1, norm2;
    private final Conv2d conv1, conv2;
    private final Conv2d shortcut;

    /** A taming ResnetBlock (projection named nin_shortcut). */
    public ResnetBlock(int inChannels, int outChannels, int groups, float eps, Philox rng) {
        this(inChannels, outChannels, groups, eps, NIN_SHORTCUT, rng);
    }

    public ResnetBlock(int inChannels, int outChannels, int groups, float eps, String shortcutName, Philox rng) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.norm1 = registerModule("norm1", new GroupNorm(groups, inChannels, eps, true));
        this.conv1 = registerModule("conv1", new Conv2d(inChannels, outChannels, 3, 1, 1, rng));
        this.norm2 = registerModule("norm2", new GroupNorm(groups, outChannels, eps, true));
        this.conv2 = registerModule("conv2", new Conv2d(outChannels, outChannels, 3, 1, 1, rng));
        this.shortcut = inChannels == outChannels ? null : registerModule(shortcutName, new Conv2d(inChannels, outChannels, 1, 1, 0, rng));
    }

    /** Parameters of a block from {@code in} to {@code out} channels. */
    public static long parameterCount(int in, int out) {
        long n = 2L * in + VqConfig.conv(in, out, 3) + 2L * out + VqConfig.conv(out, out, 3);
        return in == out ? n : n + VqConfig.conv(in, out, 1);
    }

    @Override public Tensor forward(Tensor x) {
        // at inference each half frees its temporaries (the fused norm + swish) on return
        Tensor h1 = block(() -> conv1.forward(norm1.forwardSilu(x)));
        Tensor h2 = block(() -> conv2.forward(norm2.forwardSilu(h1)));
        done(h1, x);
        Tensor out = block(() -> (shortcut == null ? x : shortcut.forward(x)).add(h2));
        done(h2, x);
        return out;
    }

    @Override public String toString() { return "ResnetBlock(" + inChannels + " -> " + outChannels + ")"; }
}
