package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.Module;
import dev.moesr.nn.ModuleList;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.GroupNorm;
import dev.moesr.nn.layers.Upsample;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The VQ-GAN decoder, with taming's state-dict names: conv_in (zChannels to the deepest width);
 * mid.block_1, mid.attn_1, mid.block_2; up.{i}.block.{j} with numResBlocks + 1 residual blocks
 * per level and up.{i}.upsample.conv (nearest x2, then 3x3) on every level but 0; norm_out;
 * conv_out. {@code up.{i}} is indexed by level, but the levels run deepest first.
 *
 * <p>Subclasses can act after a level's residual blocks ({@link #afterLevel}) and before the
 * output head ({@link #beforeOutput}); the frequency-compensated decoder fuses LR features and
 * refines there.
 */
public class Decoder extends Module {
    public final VqConfig config;
    private final Conv2d convIn;
    private final MidBlock mid;
    private final ModuleList<ResolutionLevel> up;
    private final GroupNorm normOut;
    private final Conv2d convOut;

    public Decoder(VqConfig config, Philox rng) {
        this.config = config;
        int groups = config.normGroups();
        float eps = config.normEps();
        int in = config.width(config.levels() - 1);
        this.convIn = registerModule("conv_in", new Conv2d(config.zChannels(), in, 3, 1, 1, rng));
        this.mid = registerModule("mid", new MidBlock(in, groups, eps, rng));
        ResolutionLevel[] levels = new ResolutionLevel[config.levels()];
        for (int level = config.levels() - 1; level >= 0; level--) {
            List<ResnetBlock> blocks = new ArrayList<>();
            for (int j = 0; j < config.numResBlocks() + 1; j++) {
                blocks.add(new ResnetBlock(in, config.width(level), groups, eps, rng));
                in = config.width(level);
            }
            levels[level] = new ResolutionLevel(blocks, "upsample", level == 0 ? null : new Upsample(in, in, rng));
        }
        this.up = registerModule("up", new ModuleList<>(levels));
        this.normOut = registerModule("norm_out", new GroupNorm(groups, in, eps, true));
        this.convOut = registerModule("conv_out", new Conv2d(in, config.outChannels(), 3, 1, 1, rng));
    }

    /** Latent [N, zChannels, h, w] (after post_quant_conv) to an image [N, outChannels, h*f, w*f]. */
    public Tensor forward(Tensor z) { return decode(z, List.of()); }

    /** The decoder pass; {@code lrFeatures} is handed to {@link #afterLevel} (empty for the plain decoder). */
    protected final Tensor decode(Tensor z, List<Tensor> lrFeatures) {
        if (z.rank() != 4 || z.dim(1) != config.zChannels()) {
            throw new IllegalArgumentException("the decoder needs NCHW latents with " + config.zChannels() + " channels, got shape " + z.shape());
        }
        Tensor h = block(() -> mid.forward(convIn.forward(z)));
        for (int level = config.levels() - 1; level >= 0; level--) {
            ResolutionLevel l = up.get(level);
            int lv = level;
            Tensor in = h;
            Tensor blocks = l.blocks(in);
            done(in, blocks);
            Tensor fused = block(() -> afterLevel(lv, blocks, lrFeatures));
            h = block(() -> l.resample(fused));
            done(blocks, fused);
            done(fused, h);
        }
        Tensor last = h;
        Tensor refined = block(() -> beforeOutput(last));
        done(last, refined);
        Tensor out = block(() -> convOut.forward(normOut.forwardSilu(refined)));
        done(refined, out);
        return out;
    }

    /** Called with the activations after the residual blocks of {@code level}, before its upsampling. */
    protected Tensor afterLevel(int level, Tensor h, List<Tensor> lrFeatures) { return h; }

    /** Called with the full-resolution activations before norm_out, swish and conv_out. */
    protected Tensor beforeOutput(Tensor h) { return h; }
}
