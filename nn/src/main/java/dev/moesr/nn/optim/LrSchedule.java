package dev.moesr.nn.optim;

/** A learning rate per optimiser step; step counts the updates already done (0 for the first). */
@FunctionalInterface
public interface LrSchedule {
    double at(long step);

    static LrSchedule constant(double lr) {
        if (!(lr >= 0)) throw new IllegalArgumentException("learning rate must be >= 0, got " + lr);
        return step -> lr;
    }

    /**
     * Linear warm-up: lr * (step + 1) / warmupSteps for the first warmupSteps steps, then lr.
     * The first update already moves (lr / warmupSteps); step warmupSteps - 1 uses the full lr.
     */
    static LrSchedule linearWarmup(double lr, long warmupSteps) {
        if (!(lr >= 0)) throw new IllegalArgumentException("learning rate must be >= 0, got " + lr);
        if (warmupSteps < 0) throw new IllegalArgumentException("warm-up steps must be >= 0, got " + warmupSteps);
        return step -> {
            if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
            return warmupSteps == 0 ? lr : lr * Math.min(1.0, (step + 1) / (double) warmupSteps);
        };
    }

    /** Applies this schedule's rate for {@code step} to {@code optimizer}; returns the rate. */
    default double apply(Optimizer optimizer, long step) {
        double lr = at(step);
        optimizer.setLearningRate(lr);
        return lr;
    }
}
