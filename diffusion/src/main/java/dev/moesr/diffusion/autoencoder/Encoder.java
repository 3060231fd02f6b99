package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.Module;
import dev.moesr.nn.ModuleList;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.GroupNorm;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The VQ-GAN encoder, with taming's state-dict names: conv_in; down.{i}.block.{j} (numResBlocks
 * residual blocks per level) and down.{i}.downsample on every level but the last; mid.block_1,
 * mid.attn_1, mid.block_2; norm_out; conv_out (to zChannels).
 */
public class Encoder extends Module {
    public final VqConfig config;
    private final Conv2d convIn;
    private final ModuleList<ResolutionLevel> down;
    private final MidBlock mid;
    private final GroupNorm normOut;
    private final Conv2d convOut;

    public Encoder(VqConfig config, Philox rng) {
        this.config = config;
        int groups = config.normGroups();
        float eps = config.normEps();
        this.convIn = registerModule("conv_in", new Conv2d(config.inChannels(), config.ch(), 3, 1, 1, rng));
        this.down = registerModule("down", new ModuleList<>());
        int in = config.ch();
        for (int level = 0; level < config.levels(); level++) {
            List<ResnetBlock> blocks = new ArrayList<>();
            for (int j = 0; j < config.numResBlocks(); j++) {
                blocks.add(new ResnetBlock(in, config.width(level), groups, eps, rng));
                in = config.width(level);
            }
            down.add(new ResolutionLevel(blocks, "downsample", level == config.levels() - 1 ? null : new VqDownsample(in, rng)));
        }
        this.mid = registerModule("mid", new MidBlock(in, groups, eps, rng));
        this.normOut = registerModule("norm_out", new GroupNorm(groups, in, eps, true));
        this.convOut = registerModule("conv_out", new Conv2d(in, config.zChannels(), 3, 1, 1, rng));
    }

    /** Image [N, inChannels, H, W] to the encoder output [N, zChannels, H/f, W/f] (before quant_conv). */
    public Tensor forward(Tensor x) {
        Tensor h = convIn.forward(checkImage(x));
        for (ResolutionLevel level : down) h = level.resample(level.blocks(h));
        h = mid.forward(h);
        return convOut.forward(normOut.forwardSilu(h));
    }

    /**
     * The activations after the residual blocks of each of {@code levels} (ascending, each in
     * 0 .. levels-1), before that level's downsampling. Only the layers up to the deepest
     * requested level run: the middle block and the output head are skipped.
     */
    public List<Tensor> levelFeatures(Tensor x, int... levels) {
        for (int i = 0; i < levels.length; i++) {
            if (levels[i] < 0 || levels[i] >= config.levels() || (i > 0 && levels[i] <= levels[i - 1])) {
                throw new IllegalArgumentException("feature levels must be ascending and within 0.." + (config.levels() - 1) + ", got "
                        + Arrays.toString(levels));
            }
        }
        List<Tensor> out = new ArrayList<>();
        if (levels.length == 0) return out;
        Tensor h = block(() -> convIn.forward(checkImage(x)));
        int next = 0, deepest = levels[levels.length - 1];
        for (int level = 0; level <= deepest; level++) {
            ResolutionLevel l = down.get(level);
            Tensor in = h;
            h = block(() -> l.blocks(in));
            if (in != x) done(in, h);   // never a returned feature (those are block outputs); kept if the level has no blocks
            if (level == levels[next]) {
                out.add(h);
                next++;
            }
            if (level < deepest) {
                Tensor features = h;
                h = block(() -> l.resample(features));
                if (!out.contains(features)) done(features, h);
            }
        }
        return out;
    }

    private Tensor checkImage(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != config.inChannels()) {
            throw new IllegalArgumentException("the encoder needs NCHW images with " + config.inChannels() + " channels, got shape " + x.shape());
        }
        int f = config.downsamplingFactor();
        if (x.dim(2) % f != 0 || x.dim(3) % f != 0) {
            throw new IllegalArgumentException("the encoder halves the image " + (config.levels() - 1) + " times, so H and W must be multiples of "
                    + f + ", got shape " + x.shape() + "; pad or crop the image first");
        }
        return x;
    }
}
