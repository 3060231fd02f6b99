package dev.moesr.nn;

import dev.moesr.nn.layers.SiLU;
import dev.moesr.tensor.Tensor;

/** Small modules with hand-set weights for tests of the module machinery (no random init needed). */
final class Toy {
    private Toy() {}

    /** y = x * weight + bias over the last dimension; weight i starts at start + i. */
    static final class Affine extends Layer {
        final Parameter weight, bias;

        Affine(int n, float start) {
            float[] w = new float[n];
            for (int i = 0; i < n; i++) w[i] = start + i;
            weight = registerParameter("weight", Tensor.of(w, n));
            bias = registerParameter("bias", Tensor.zeros(n));
        }

        @Override public Tensor forward(Tensor x) { return x.mul(weight.tensor()).add(bias.tensor()); }
    }

    /** LDM's ResBlock naming: in_layers (norm-like, SiLU, affine), a buffer, and a skip. */
    static final class Res extends Layer {
        final Sequential inLayers;
        final Buffer counter;

        Res(int n) {
            inLayers = registerModule("in_layers", new Sequential(new Affine(n, 1), new SiLU(), new Affine(n, 2)));
            counter = registerBuffer("counter", Tensor.zeros(1));
            registerBuffer("scratch", Tensor.zeros(n), false);
        }

        @Override public Tensor forward(Tensor x) { return x.add(inLayers.forward(x)); }
    }

    /** input_blocks: a list of sequentials, like the LDM UNet. */
    static final class Net extends Module {
        final ModuleList<Sequential> inputBlocks;
        final Affine out;

        Net(int n) {
            inputBlocks = registerModule("input_blocks", new ModuleList<>(new Sequential(new Affine(n, 3)), new Sequential(new Res(n), new Res(n))));
            out = registerModule("out", new Affine(n, 4));
        }

        Tensor forward(Tensor x) {
            for (Sequential s : inputBlocks) x = s.forward(x);
            return out.forward(x);
        }
    }
}
