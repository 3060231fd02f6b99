package dev.moesr.nn.io;

import dev.moesr.tensor.Tensor;

import java.util.Map;

/**
 * Guards against NaN and infinity reaching a file: a checkpoint or model file with non-finite
 * values would replace a good one and poison every run that loads it.
 */
public final class NonFinite {
    private NonFinite() {}

    /** The name of the first tensor holding a NaN or an infinity, or null when all are finite. */
    public static String firstNonFinite(Map<String, Tensor> tensors) {
        for (var e : tensors.entrySet()) {
            if (e.getValue().isComplex()) continue;
            for (float v : e.getValue().toFloatArray()) {
                if (!Float.isFinite(v)) return e.getKey();
            }
        }
        return null;
    }

    /** Refuses tensors with a NaN or an infinity, naming the first such tensor and what was being done. */
    public static void require(Map<String, Tensor> tensors, String what) {
        String bad = firstNonFinite(tensors);
        if (bad != null) {
            throw new NonFiniteException(what + ": tensor " + bad + " holds NaN or infinite values (the training diverged; "
                    + "lower the learning rate, or go back to an earlier checkpoint)");
        }
    }
}
