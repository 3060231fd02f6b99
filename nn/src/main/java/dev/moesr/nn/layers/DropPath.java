package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * Stochastic depth: in training, drops a whole sample (the first dimension) with probability p
 * and scales the kept ones by 1/(1-p), as timm's DropPath; the identity in evaluation.
 */
public class DropPath extends Layer implements Stochastic {
    public final float p;
    private Philox rng;

    public DropPath(float p, Philox rng) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("drop-path probability must be in [0, 1], got " + p);
        this.p = p;
        this.rng = rng;
    }

    /**
     * Draws the masks from {@code rng} from now on. A trainer that resumes sets a stream keyed by
     * the step here, so masks do not depend on how many steps this process has run.
     */
    @Override public void setRng(Philox rng) {
        if (rng == null) throw new IllegalArgumentException("DropPath needs a random stream, got null");
        this.rng = rng;
    }

    @Override public Tensor forward(Tensor x) {
        if (!isTraining() || p == 0) return x;
        if (x.rank() < 1) throw new IllegalArgumentException("DropPath needs a batch dimension, got a scalar");
        if (p == 1) return x.mul(0f);
        int[] maskShape = new int[x.rank()];
        java.util.Arrays.fill(maskShape, 1);
        maskShape[0] = x.dim(0);
        Tensor keep = Tensor.rand(rng, x.device(), maskShape).ge(Tensor.full(x.device(), p));
        return x.mul(keep.mul(1f / (1f - p)));
    }

    @Override public String toString() { return "DropPath(" + p + ")"; }
}
