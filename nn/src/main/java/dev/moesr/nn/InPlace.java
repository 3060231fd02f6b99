package dev.moesr.nn;

import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Tensor;

/**
 * Writes values into an existing tensor's storage, so every reference to that tensor object
 * (a module's field, an optimiser's list, a captured graph) sees the new values. This is how
 * optimisers, EMA and state-dict loading update parameters; it records no autograd graph.
 */
public final class InPlace {
    private InPlace() {}

    /**
     * Copies {@code src} into {@code dst}. Shapes and dtypes must match; {@code src} may live on
     * another device (it is moved first). {@code dst} keeps its storage, autograd flags and gradient.
     */
    @SuppressWarnings("try")   // the Scope / GradMode resources only bound a region
    public static void assign(Tensor dst, Tensor src) {
        if (!dst.shape().equals(src.shape()) || dst.dtype() != src.dtype()) {
            throw new IllegalArgumentException("cannot write a " + src.dtype() + src.shape() + " tensor into a "
                    + dst.dtype() + dst.shape() + " one: shapes and dtypes must match");
        }
        long floats = dst.numel() * dst.dtype().floats;
        if (floats == 0) return;
        if (floats > Integer.MAX_VALUE) throw new IllegalArgumentException("tensor of " + floats + " floats is too large for one in-place copy");
        try (GradMode ignored = GradMode.off()) {
            Tensor from = src.device().equals(dst.device()) ? src : src.to(dst.device());
            try {
                dst.backend().copy(from.storage(), new long[] {1}, dst.storage(), new long[] {1}, new int[] {(int) floats});
            } finally {
                if (from != src) from.release();
            }
        }
    }

    /** Sets every element of {@code dst} to {@code value}. */
    public static void fill(Tensor dst, float value) {
        if (dst.numel() == 0) return;
        dst.backend().fill(dst.storage(), value);
    }
}
