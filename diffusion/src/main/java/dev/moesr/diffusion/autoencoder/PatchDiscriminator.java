package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.Init;
import dev.moesr.nn.Layer;
import dev.moesr.nn.Sequential;
import dev.moesr.nn.layers.BatchNorm2d;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.LeakyReLU;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

/**
 * The PatchGAN discriminator of taming-transformers (NLayerDiscriminator, after pix2pix): 4x4
 * convolutions with padding 1, LeakyReLU 0.2, BatchNorm between the inner ones (which then have
 * no bias). With nLayers = 3 and ndf = 64: 3 -> 64 (stride 2), 64 -> 128 (stride 2),
 * 128 -> 256 (stride 2), 256 -> 512 (stride 1), 512 -> 1 (stride 1): one logit per image patch
 * (30x30 for a 256x256 input). State under {@code main.{i}} as in the reference Sequential.
 *
 * <p>Initialised as taming's weights_init: convolution weights N(0, 0.02) (biases keep the
 * default init), BatchNorm weights N(1, 0.02) and biases 0.
 */
public class PatchDiscriminator extends Layer {
    private static final float SLOPE = 0.2f;

    public final int inChannels, ndf, nLayers;
    private final Sequential main;

    /** taming's defaults: 3 input channels, 64 filters, 3 layers. */
    public PatchDiscriminator(Philox rng) { this(3, 64, 3, rng); }

    public PatchDiscriminator(int inChannels, int ndf, int nLayers, Philox rng) {
        if (inChannels <= 0 || ndf <= 0 || nLayers <= 0) {
            throw new IllegalArgumentException("PatchDiscriminator needs positive inChannels, ndf and nLayers, got " + inChannels + ", " + ndf + ", " + nLayers);
        }
        this.inChannels = inChannels;
        this.ndf = ndf;
        this.nLayers = nLayers;
        Sequential s = new Sequential(conv(inChannels, ndf, 2, true, rng), new LeakyReLU(SLOPE));
        int mult = 1;
        for (int n = 1; n <= nLayers; n++) {
            int prev = mult;
            mult = Math.min(1 << n, 8);
            int stride = n == nLayers ? 1 : 2;   // the last inner layer keeps the resolution
            s.add(conv(ndf * prev, ndf * mult, stride, false, rng)).add(new BatchNorm2d(ndf * mult)).add(new LeakyReLU(SLOPE));
        }
        s.add(conv(ndf * mult, 1, 1, true, rng));
        this.main = registerModule("main", s);
        try (Scope scope = Scope.open()) {
            for (Layer l : main.layers()) {
                if (l instanceof Conv2d c) {
                    c.weight().assign(Init.normal(rng, Device.CPU, 0.02, c.weight().dims()));
                } else if (l instanceof BatchNorm2d bn) {
                    bn.weight().assign(Init.normal(rng, Device.CPU, 0.02, bn.channels).add(1f));
                    bn.bias().assign(Tensor.zeros(bn.channels));
                }
            }
        }
    }

    private static Conv2d conv(int in, int out, int stride, boolean bias, Philox rng) {
        return new Conv2d(in, out, 4, stride, 1, 1, 1, bias, rng);
    }

    /** Images [N, inChannels, H, W] to patch logits [N, 1, h, w]. */
    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != inChannels) {
            throw new IllegalArgumentException("the discriminator needs NCHW images with " + inChannels + " channels, got shape " + x.shape());
        }
        return main.forward(x);
    }

    @Override public String toString() { return "PatchDiscriminator(" + inChannels + ", ndf " + ndf + ", layers " + nLayers + ")"; }
}
