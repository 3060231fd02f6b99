package dev.moesr.nn;

import dev.moesr.tensor.Tensor;

/** A module that maps one tensor to one tensor: what {@link Sequential} chains. */
public abstract class Layer extends Module {
    public abstract Tensor forward(Tensor x);
}
