package dev.moesr.nn.optim;

import dev.moesr.nn.InPlace;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

import java.util.Collection;

/** Gradient clipping by the global L2 norm, as torch.nn.utils.clip_grad_norm_. */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales all gradients by min(1, maxNorm / (norm + 1e-6)), where norm is the L2 norm of all
     * gradients together, and returns that norm. Parameters without a gradient are skipped. When the
     * norm is not finite the gradients are left unchanged (PyTorch would fill them with NaN), so the
     * caller can see the returned value and skip the step.
     */
    @SuppressWarnings("try")   // the Scope / GradMode resources only bound a region
    public static double clipGradNorm(Collection<Parameter> params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("max gradient norm must be > 0, got " + maxNorm);
        double norm = globalNorm(params);
        double coef = maxNorm / (norm + 1e-6);
        if (Double.isFinite(norm) && coef < 1) {
            try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
                for (Parameter p : params) {
                    Tensor g = p.grad();
                    if (g != null) InPlace.assign(g, g.mul((float) coef));
                }
            }
        }
        return norm;
    }

    /** The L2 norm of all gradients together (0 when none has one). */
    @SuppressWarnings("try")   // the Scope / GradMode resources only bound a region
    public static double globalNorm(Collection<Parameter> params) {
        double sumSquares = 0;
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            Tensor total = null;
            for (Parameter p : params) {
                Tensor g = p.grad();
                if (g == null || g.numel() == 0) continue;
                Tensor sq = g.square().sum();
                total = total == null ? sq : total.add(sq);
            }
            if (total != null) sumSquares = total.item();
        }
        return Math.sqrt(sumSquares);
    }
}
