package dev.moesr.nn;

import dev.moesr.tensor.Tensor;

/** A trainable tensor of a module: it requires grad (unless frozen) and optimisers update it in place. */
public final class Parameter extends StateTensor {

    /** Wraps {@code tensor} (a live leaf) and marks it as requiring grad. */
    public Parameter(Tensor tensor) {
        super(tensor);
        tensor.requiresGrad(true);
    }

    /** The accumulated gradient, or null when backward has not reached this parameter. */
    public Tensor grad() { return tensor().grad(); }

    public void zeroGrad() { tensor().zeroGrad(); }

    /** Whether optimisers and backward treat this parameter as trainable. */
    public boolean isTrainable() { return tensor().needsGrad(); }

    /** Freezes ({@code false}) or unfreezes ({@code true}) the parameter; frozen ones get no gradient. */
    public void setTrainable(boolean trainable) {
        tensor().requiresGrad(trainable);
        if (!trainable) tensor().zeroGrad();
    }
}
