package dev.moesr.nn.optim;

import dev.moesr.nn.Parameter;
import dev.moesr.tensor.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Updates a fixed set of named parameters in place from their gradients. Parameters are named
 * (usually by {@code model.namedTrainableParameters()}) so optimiser state in a checkpoint is
 * keyed by parameter name, not by position.
 */
public abstract class Optimizer {
    private final Map<String, Parameter> params;
    private double learningRate;

    protected Optimizer(Map<String, Parameter> params, double learningRate) {
        if (params.isEmpty()) throw new IllegalArgumentException("an optimiser needs at least one parameter");
        checkLearningRate(learningRate);
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        this.learningRate = learningRate;
    }

    /** The parameters, by name, in a fixed order. */
    public final Map<String, Parameter> params() { return params; }

    public final double learningRate() { return learningRate; }

    /** Sets the learning rate used by the next {@link #step} (for schedules). */
    public final void setLearningRate(double lr) {
        checkLearningRate(lr);
        this.learningRate = lr;
    }

    private static void checkLearningRate(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be a finite value >= 0, got " + lr);
    }

    /** Updates every parameter that has a gradient; parameters without one are left alone. */
    public abstract void step();

    /** Forgets the gradients of all parameters. */
    public final void zeroGrad() {
        for (Parameter p : params.values()) p.zeroGrad();
    }

    /**
     * The optimiser state for a checkpoint, keyed {@code <parameter name>.<state name>}. Large
     * state tensors are the live ones (do not release them); small ones such as step counters
     * are new tensors that belong to the scope open at the call.
     */
    public abstract Map<String, Tensor> stateDict();

    /** Restores state saved by {@link #stateDict}; checks every key and shape before changing anything. */
    public abstract void loadStateDict(Map<String, Tensor> state);

    /** Frees the optimiser's state tensors. */
    public abstract void release();
}
