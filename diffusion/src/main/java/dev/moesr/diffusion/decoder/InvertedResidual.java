package dev.moesr.diffusion.decoder;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * MobileNetV2's inverted residual as the AFFNet code builds it (stride 1): block.exp_1x1
 * (1x1 to the hidden width, BatchNorm, LeakyReLU 0.1), block.conv_3x3 (3x3 depthwise, BatchNorm,
 * LeakyReLU 0.1), block.red_1x1 (1x1 to the output width, BatchNorm). The hidden width is
 * in * expandRatio rounded to a multiple of 8 (make_divisible). When in == out the input is
 * added to the result (the code's use_res_connect).
 */
public class InvertedResidual extends Layer {
    public final int inChannels, outChannels, hidden;
    private final Layer block;

    private static final class Block extends Layer {
        final ConvBnAct exp1x1, conv3x3, red1x1;

        Block(int in, int hidden, int out, Philox rng) {
            this.exp1x1 = registerModule("exp_1x1", new ConvBnAct(in, hidden, 1, 1, true, rng));
            this.conv3x3 = registerModule("conv_3x3", new ConvBnAct(hidden, hidden, 3, hidden, true, rng));
            this.red1x1 = registerModule("red_1x1", new ConvBnAct(hidden, out, 1, 1, false, rng));
        }

        @Override public Tensor forward(Tensor x) {
            // at inference each hidden-width activation is freed once used: the widest tensors of the decoder
            Tensor expanded = block(() -> exp1x1.forward(x));
            Tensor mixed = block(() -> conv3x3.forward(expanded));
            done(expanded, x);
            Tensor out = block(() -> red1x1.forward(mixed));
            done(mixed, x);
            return out;
        }
    }

    public InvertedResidual(int inChannels, int outChannels, int expandRatio, Philox rng) {
        if (expandRatio < 2) throw new IllegalArgumentException("InvertedResidual needs an expand ratio >= 2 (the released blocks use 4), got " + expandRatio);
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.hidden = hiddenWidth(inChannels, expandRatio);
        this.block = registerModule("block", new Block(inChannels, hidden, outChannels, rng));
    }

    /** make_divisible(round(in * ratio), 8): the nearest multiple of 8, at least 8, and not more than 10% below. */
    public static int hiddenWidth(int in, int ratio) {
        int v = in * ratio, divisor = 8;
        int rounded = Math.max(divisor, (v + divisor / 2) / divisor * divisor);
        return rounded < 0.9 * v ? rounded + divisor : rounded;
    }

    public static long parameterCount(int in, int out, int ratio) {
        int h = hiddenWidth(in, ratio);
        return ConvBnAct.parameterCount(in, h, 1, 1) + ConvBnAct.parameterCount(h, h, 3, h) + ConvBnAct.parameterCount(h, out, 1, 1);
    }

    @Override public Tensor forward(Tensor x) {
        Tensor y = block.forward(x);
        return inChannels == outChannels ? x.add(y) : y;
    }
}
