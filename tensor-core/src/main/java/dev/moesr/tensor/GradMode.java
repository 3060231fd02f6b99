package dev.moesr.tensor;

/**
 * Whether operations record the autograd graph on this thread. Inference runs under
 * {@code try (var g = GradMode.off()) { ... }} and records nothing.
 */
public final class GradMode implements AutoCloseable {
    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> Boolean.TRUE);
    private final boolean previous;

    private GradMode(boolean enabled) {
        previous = ENABLED.get();
        ENABLED.set(enabled);
    }

    public static GradMode off() { return new GradMode(false); }

    public static GradMode on() { return new GradMode(true); }

    public static boolean isEnabled() { return ENABLED.get(); }

    @Override public void close() { ENABLED.set(previous); }
}
