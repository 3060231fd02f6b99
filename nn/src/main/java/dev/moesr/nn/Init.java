package dev.moesr.nn;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;

/**
 * Initialisers with PyTorch's default rules, drawn from a {@link Philox} stream so a model built
 * from the same seed is the same on every run and device. Returned tensors belong to the scope
 * open at the call (temporaries are freed here).
 *
 * <p>Building a model only to overwrite every weight from a file need not draw them: within
 * {@link #deferred(Device)}, {@link #uniform} and {@link #normal} return uninitialised tensors on
 * that device (whatever device the caller names) and only advance the stream as drawing would, so
 * a module built there is the right shape, in the right place, at the cost of an allocation. Its
 * weights are garbage until loaded: load them all (strictly) or release the module.
 */
public final class Init {
    private static final ThreadLocal<Device> DEFERRED = new ThreadLocal<>();

    private Init() {}

    /** The region of {@link #deferred}: closing it restores what was in force before. */
    public static final class Deferral implements AutoCloseable {
        private final Device previous;
        private boolean closed;

        private Deferral(Device previous) { this.previous = previous; }

        @Override public void close() {
            if (closed) return;
            closed = true;
            if (previous == null) DEFERRED.remove();
            else DEFERRED.set(previous);
        }
    }

    /**
     * Until the returned region is closed, this thread's initialisers allocate uninitialised
     * tensors on {@code device} instead of drawing values (the stream advances as if they drew).
     * For building a module whose every weight is then read from a file.
     */
    public static Deferral deferred(Device device) {
        Device previous = DEFERRED.get();
        DEFERRED.set(Backends.resolve(device));
        return new Deferral(previous);
    }

    /** Whether initialisation is deferred on this thread (see {@link #deferred}). */
    public static boolean isDeferred() { return DEFERRED.get() != null; }

    /** An uninitialised tensor on the deferral's device, with the stream advanced as a draw of the same size would. */
    private static Tensor skipped(Philox rng, Device device, int... shape) {
        long numel = 1;
        for (int d : shape) numel *= d;
        rng.reserve(numel);
        return Tensor.empty(Backends.get(device), DType.F32, shape);
    }

    /**
     * The fan-in of a weight: input features for a Linear weight [out, in], in/groups * kh * kw
     * for a Conv2d weight [out, in/groups, kh, kw].
     */
    public static int fanIn(int... weightShape) {
        if (weightShape.length < 2) throw new IllegalArgumentException("fan-in needs a weight of rank >= 2, got rank " + weightShape.length);
        int f = weightShape[1];
        for (int i = 2; i < weightShape.length; i++) f *= weightShape[i];
        return f;
    }

    /**
     * The bound of PyTorch's default Linear/Conv weight init, kaiming_uniform with a = sqrt(5):
     * gain sqrt(2 / (1 + a^2)) = sqrt(1/3), bound sqrt(3) * gain / sqrt(fanIn) = 1 / sqrt(fanIn).
     * The same bound is used for biases; 0 when fanIn is 0.
     */
    public static double defaultBound(int fanIn) {
        return fanIn > 0 ? 1.0 / Math.sqrt(fanIn) : 0.0;
    }

    /** Values uniform in [-bound, bound). */
    public static Tensor uniform(Philox rng, Device device, double bound, int... shape) {
        Device deferredTo = DEFERRED.get();
        if (deferredTo != null) return skipped(rng, deferredTo, shape);
        try (Scope s = Scope.open()) {
            Tensor u = Tensor.rand(rng, device, shape);
            return s.keep(u.mul((float) (2 * bound)).sub((float) bound));
        }
    }

    /** Values normal with mean 0 and standard deviation {@code std}. */
    public static Tensor normal(Philox rng, Device device, double std, int... shape) {
        Device deferredTo = DEFERRED.get();
        if (deferredTo != null) return skipped(rng, deferredTo, shape);
        try (Scope s = Scope.open()) {
            Tensor n = Tensor.randn(rng, device, shape);
            return s.keep(std == 1.0 ? n : n.mul((float) std));
        }
    }

    /** A weight with PyTorch's Linear/Conv2d default init: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
    public static Tensor defaultWeight(Philox rng, Device device, int... shape) {
        return uniform(rng, device, defaultBound(fanIn(shape)), shape);
    }
}
