package dev.moesr.nn.layers;

import dev.moesr.nn.Init;
import dev.moesr.nn.Layer;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * A lookup table [num, dim] (PyTorch's nn.Embedding, weights N(0, 1) at start). Input: a tensor
 * of integral indices stored as floats; output: its shape plus [dim].
 */
public class Embedding extends Layer {
    public final int numEmbeddings, embeddingDim;
    private final Parameter weight;

    public Embedding(int numEmbeddings, int embeddingDim, Philox rng) {
        if (numEmbeddings <= 0 || embeddingDim <= 0) {
            throw new IllegalArgumentException("Embedding needs positive sizes, got " + numEmbeddings + " x " + embeddingDim);
        }
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
        this.weight = registerParameter("weight", Init.normal(rng, Device.CPU, 1.0, numEmbeddings, embeddingDim));
    }

    public Parameter weight() { return weight; }

    @Override public Tensor forward(Tensor indices) {
        if (indices.isComplex()) throw new IllegalArgumentException("Embedding indices must be a real tensor, got " + indices.dtype());
        return Tensor.embedding(weight.tensor(), indices);
    }

    @Override public String toString() { return "Embedding(" + numEmbeddings + ", " + embeddingDim + ")"; }
}
