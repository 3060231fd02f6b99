package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.Tensor;

import java.util.Arrays;

/** Layer normalisation over the trailing dimensions {@code normalizedShape} (PyTorch's nn.LayerNorm). */
public class LayerNorm extends Layer {
    private final int[] normalizedShape;
    public final float eps;
    private final Parameter weight;
    private final Parameter bias;

    /** Over the last dimension of size {@code features}, eps 1e-5, with weight and bias. */
    public LayerNorm(int features) { this(new int[] {features}, 1e-5f, true); }

    public LayerNorm(int[] normalizedShape, float eps, boolean affine) {
        if (normalizedShape.length == 0) throw new IllegalArgumentException("LayerNorm needs at least one normalised dimension");
        for (int d : normalizedShape) {
            if (d <= 0) throw new IllegalArgumentException("LayerNorm dimensions must be positive, got " + Arrays.toString(normalizedShape));
        }
        if (!(eps > 0)) throw new IllegalArgumentException("LayerNorm eps must be > 0, got " + eps);
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        this.weight = affine ? registerParameter("weight", Tensor.ones(normalizedShape)) : null;
        this.bias = affine ? registerParameter("bias", Tensor.zeros(normalizedShape)) : null;
    }

    public int[] normalizedShape() { return normalizedShape.clone(); }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    @Override public Tensor forward(Tensor x) {
        int k = normalizedShape.length;
        boolean ok = x.rank() >= k;
        for (int i = 0; ok && i < k; i++) ok = x.dim(x.rank() - k + i) == normalizedShape[i];
        if (!ok) {
            throw new IllegalArgumentException("LayerNorm" + Arrays.toString(normalizedShape) + " needs input ending in those dimensions, got shape " + x.shape());
        }
        return x.layerNorm(normalizedShape, weight == null ? null : weight.tensor(), bias == null ? null : bias.tensor(), eps);
    }

    @Override public String toString() { return "LayerNorm(" + Arrays.toString(normalizedShape) + ", eps " + eps + ")"; }
}
