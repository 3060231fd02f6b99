package dev.moesr.diffusion.sampling;

import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

/**
 * DDIM sampling (Song et al.) with LDM's update, which with eta = 1 is ancestral DDPM
 * sampling on the respaced chain:
 * <pre>
 *   x0   = (x - sqrt(1 - abar) eps) / sqrt(abar)
 *   x'   = sqrt(abar_prev) x0 + sqrt(1 - abar_prev - sigma^2) eps + sigma * noise
 * </pre>
 * Noise comes from a Philox stream, so a seed gives the same trajectory on every device.
 */
public final class DdimSampler {
    /** Called after each step with the number of steps done and the total. */
    @FunctionalInterface
    public interface Progress {
        void update(int done, int total);
    }

    private final SamplingPlan plan;

    public DdimSampler(SamplingPlan plan) { this.plan = plan; }

    public SamplingPlan plan() { return plan; }

    /**
     * Runs the whole chain from pure noise of {@code shape} on the condition's device.
     * Nothing is recorded for autograd; each step's temporaries are released at once.
     */
    public Tensor sample(Denoiser model, Tensor condition, int[] shape, Philox rng, Progress progress) {
        try (GradMode off = GradMode.off()) {
            Tensor x = Tensor.randn(rng, condition.device(), shape);
            for (int i = plan.steps() - 1; i >= 0; i--) {
                Tensor next;
                try (Scope scope = Scope.open()) {
                    Tensor eps = model.predictNoise(x, condition, plan.timestep(i));
                    next = scope.keep(step(x, eps, i, rng));
                }
                x.release();
                x = next;
                if (progress != null) progress.update(plan.steps() - i, plan.steps());
            }
            return x;
        }
    }

    /** One update from step i's sample and predicted noise; draws noise only when sigma > 0. */
    public Tensor step(Tensor x, Tensor eps, int i, Philox rng) {
        if (!x.shape().equals(eps.shape())) {
            throw new IllegalArgumentException("the model predicted noise of shape " + eps.shape() + " for a sample of shape " + x.shape());
        }
        double a = plan.alpha(i), ap = plan.alphaPrev(i), s = plan.sigma(i);
        Tensor x0 = x.sub(eps.mul((float) Math.sqrt(1 - a))).mul((float) (1 / Math.sqrt(a)));
        Tensor out = x0.mul((float) Math.sqrt(ap)).add(eps.mul((float) Math.sqrt(Math.max(0, 1 - ap - s * s))));
        if (s > 0) out = out.add(Tensor.randn(rng, x.device(), x.dims()).mul((float) s));
        return out;
    }
}
