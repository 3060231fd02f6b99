package dev.moesr.nn;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;

/**
 * A long-lived tensor that belongs to a {@link Module}'s state: a {@link Parameter} or a
 * {@link Buffer}. New values are written into the tensor's storage ({@link #assign}), so
 * references held elsewhere stay valid; only {@link Module#to} swaps the tensor for one on
 * another device.
 *
 * <p>The tensor belongs to the {@link dev.moesr.tensor.Scope} that was open when it was made:
 * build models outside any scope (the caller then owns them and frees them with
 * {@link Module#release()}), or keep them out of a scope with {@link Module#keepIn}.
 */
public abstract sealed class StateTensor permits Parameter, Buffer {
    private Tensor tensor;

    StateTensor(Tensor tensor) {
        if (tensor.isReleased()) throw new IllegalArgumentException("a module state tensor must be live, got a released " + tensor.shape());
        if (!tensor.isLeaf()) throw new IllegalArgumentException("a module state tensor must be a leaf; detach() it first");
        this.tensor = tensor;
    }

    /** The tensor itself: use it in forward passes. */
    public final Tensor tensor() { return tensor; }

    public final Shape shape() { return tensor.shape(); }

    public final int[] dims() { return tensor.dims(); }

    public final long numel() { return tensor.numel(); }

    /** Writes {@code values} (same shape) into this tensor's storage. */
    public final void assign(Tensor values) { InPlace.assign(tensor, values); }

    /** Writes host values (row-major, same element count) into this tensor's storage. */
    public final void assign(float[] values) {
        if (values.length != tensor.numel()) {
            throw new IllegalArgumentException(values.length + " values do not fill " + tensor.shape() + " (" + tensor.numel() + " elements)");
        }
        Tensor t = Tensor.of(values, tensor.dims());
        try {
            InPlace.assign(tensor, t);
        } finally {
            t.release();
        }
    }

    /** Moves the state to {@code device}: a new tensor replaces the old one (which is released); flags carry over, the gradient does not. */
    @SuppressWarnings("try")   // the Scope / GradMode resources only bound a region
    final void moveTo(Device device) {
        if (tensor.device().equals(device)) return;
        boolean trainable = tensor.needsGrad();
        Tensor moved;
        try (GradMode ignored = GradMode.off()) {
            moved = tensor.to(device);
        }
        tensor.release();
        tensor = moved.requiresGrad(trainable);
    }

    @Override public String toString() { return getClass().getSimpleName() + tensor.shape(); }
}
