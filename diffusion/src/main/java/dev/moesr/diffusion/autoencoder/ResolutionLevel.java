package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.Layer;
import dev.moesr.nn.Module;
import dev.moesr.nn.ModuleList;
import dev.moesr.tensor.Tensor;

import java.util.List;

/**
 * One resolution level of the encoder or decoder: its residual blocks ({@code block.{j}}) and an
 * optional resampling layer (the encoder's {@code downsample}, the decoder's {@code upsample}).
 */
final class ResolutionLevel extends Module {
    private final ModuleList<ResnetBlock> block;
    private final Layer resample;

    ResolutionLevel(List<ResnetBlock> blocks, String resampleName, Layer resample) {
        this.block = registerModule("block", new ModuleList<>(blocks));
        this.resample = resample == null ? null : registerModule(resampleName, resample);
    }

    Tensor blocks(Tensor x) {
        Tensor h = x;
        for (ResnetBlock b : block) {
            Tensor in = h;
            h = block(() -> b.forward(in));
            done(in, x);
        }
        return h;
    }

    /** The resampling, or the identity on a level without one. */
    Tensor resample(Tensor h) { return resample == null ? h : resample.forward(h); }
}
