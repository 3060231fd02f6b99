package dev.moesr.diffusion.decoder;

import dev.moesr.nn.Layer;
import dev.moesr.nn.ModuleList;
import dev.moesr.nn.Sequential;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.PixelShuffle;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * The refinement network of the frequency-compensated decoder: a small UNet of AFF blocks over
 * three scales (UNetAff with channel multipliers [1, 1, 2, 2] in the released code). For c
 * input channels:
 * <pre>
 *   x1 = conv1(x)                  AFF(c -> c)          full resolution
 *   x2 = conv2(maxpool(x1))        AFF(c -> 2c)         1/2
 *   x3 = conv3(maxpool(x2))        AFF(2c -> 2c)        1/4
 *   x3 = context_refine.{i}(x3)    contextBlocks x AFF(2c -> 2c)
 *   d3 = up_conv3(cat(x2, up3(x3)))   up3 = 1x1 conv to 4 * 2c, pixel shuffle x2; AFF(4c -> 2c)
 *   y  = up_conv2(cat(x1, up2(d3)))   up2 = 1x1 conv to 4 * c, pixel shuffle x2;  AFF(2c -> c)
 * </pre>
 * Five AFF blocks plus the context blocks: nine with the released four, six with one (the
 * paper's count). H and W must be multiples of 4.
 */
public class AffUNet extends Layer {
    public final int channels;
    private final AffBlock conv1, conv2, conv3, upConv3, upConv2;
    private final ModuleList<AffBlock> contextRefine;
    private final Sequential up3, up2;

    public AffUNet(int channels, FrequencyDecoderConfig config, Philox rng) {
        this.channels = channels;
        int c = channels, c2 = 2 * channels;
        this.conv1 = registerModule("conv1", new AffBlock(c, c, config, rng));
        this.conv2 = registerModule("conv2", new AffBlock(c, c2, config, rng));
        this.conv3 = registerModule("conv3", new AffBlock(c2, c2, config, rng));
        this.contextRefine = registerModule("context_refine", new ModuleList<>());
        for (int i = 0; i < config.affContextBlocks(); i++) contextRefine.add(new AffBlock(c2, c2, config, rng));
        this.upConv3 = registerModule("up_conv3", new AffBlock(2 * c2, c2, config, rng));
        this.upConv2 = registerModule("up_conv2", new AffBlock(2 * c, c, config, rng));
        this.up3 = registerModule("up3", new Sequential(new Conv2d(c2, c2 * 4, 1, 1, 0, rng), new PixelShuffle(2)));
        this.up2 = registerModule("up2", new Sequential(new Conv2d(c2, c * 4, 1, 1, 0, rng), new PixelShuffle(2)));
    }

    public static long parameterCount(int c, FrequencyDecoderConfig config) {
        int c2 = 2 * c;
        return AffBlock.parameterCount(c, c, config) + AffBlock.parameterCount(c, c2, config) + AffBlock.parameterCount(c2, c2, config)
                + config.affContextBlocks() * AffBlock.parameterCount(c2, c2, config)
                + AffBlock.parameterCount(2 * c2, c2, config) + AffBlock.parameterCount(2 * c, c, config)
                + (long) c2 * c2 * 4 + c2 * 4L + (long) c2 * c * 4 + c * 4L;
    }

    /** The number of AFF blocks: five plus the context blocks. */
    public int blockCount() { return 5 + contextRefine.size(); }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != channels || x.dim(2) % 4 != 0 || x.dim(3) % 4 != 0) {
            throw new IllegalArgumentException("the AFF refinement UNet needs NCHW input with " + channels
                    + " channels and H, W multiples of 4 (it pools twice), got shape " + x.shape());
        }
        // each block in a scope of its own at inference: only the skips and the current activation stay
        Tensor x1 = block(() -> conv1.forward(x));
        Tensor x2 = block(() -> conv2.forward(x1.maxPool2d(2, 2, 0)));
        Tensor x3 = block(() -> conv3.forward(x2.maxPool2d(2, 2, 0)));
        for (AffBlock b : contextRefine) {
            Tensor in = x3;
            x3 = block(() -> b.forward(in));
            done(in, x);
        }
        Tensor c3 = x3;
        Tensor d3 = block(() -> upConv3.forward(Tensor.cat(1, x2, up3.forward(c3))));
        done(c3, x);
        done(x2, x);
        Tensor out = block(() -> upConv2.forward(Tensor.cat(1, x1, up2.forward(d3))));
        done(d3, x);
        done(x1, x);
        return out;
    }
}
