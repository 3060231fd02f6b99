package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * Zeroes each element with probability p in training and scales the rest by 1/(1-p)
 * (PyTorch's nn.Dropout); the identity in evaluation. Masks come from {@code rng}, so a run is reproducible;
 * trainers replace it by a per-step stream ({@link Stochastic#reseedAll}) so a resumed run is exact.
 */
public class Dropout extends Layer implements Stochastic {
    public final float p;
    private Philox rng;

    public Dropout(float p, Philox rng) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("dropout probability must be in [0, 1], got " + p);
        this.p = p;
        this.rng = rng;
    }

    /** Draws the masks from {@code rng} from now on (a trainer sets a stream keyed by the step). */
    @Override public void setRng(Philox rng) {
        if (rng == null) throw new IllegalArgumentException("Dropout needs a random stream, got null");
        this.rng = rng;
    }

    @Override public Tensor forward(Tensor x) {
        if (!isTraining() || p == 0) return x;
        if (p == 1) return x.mul(0f);
        Tensor keep = Tensor.rand(rng, x.device(), x.dims()).ge(Tensor.full(x.device(), p));
        return x.mul(keep.mul(1f / (1f - p)));
    }

    @Override public String toString() { return "Dropout(" + p + ")"; }
}
