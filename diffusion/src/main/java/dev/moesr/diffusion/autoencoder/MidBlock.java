package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/** The middle of the VQ-GAN encoder and decoder: block_1, attn_1, block_2 at the deepest width. */
public class MidBlock extends Layer {
    private final ResnetBlock block1, block2;
    private final AttnBlock attn1;

    public MidBlock(int channels, int groups, float eps, Philox rng) {
        this.block1 = registerModule("block_1", new ResnetBlock(channels, channels, groups, eps, rng));
        this.attn1 = registerModule("attn_1", new AttnBlock(channels, groups, eps, rng));
        this.block2 = registerModule("block_2", new ResnetBlock(channels, channels, groups, eps, rng));
    }

    @Override public Tensor forward(Tensor x) { return block2.forward(attn1.forward(block1.forward(x))); }
}
