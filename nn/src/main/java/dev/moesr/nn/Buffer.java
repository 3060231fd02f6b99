package dev.moesr.nn;

import dev.moesr.tensor.Tensor;

/**
 * Non-trainable module state, such as BatchNorm running statistics or EMA shadow weights.
 * Persistent buffers are part of the state dict; non-persistent ones are not.
 */
public final class Buffer extends StateTensor {
    private final boolean persistent;

    public Buffer(Tensor tensor, boolean persistent) {
        super(tensor);
        if (tensor.needsGrad()) throw new IllegalArgumentException("a buffer must not require grad; use a Parameter for trainable state");
        this.persistent = persistent;
    }

    public Buffer(Tensor tensor) { this(tensor, true); }

    public boolean isPersistent() { return persistent; }
}
