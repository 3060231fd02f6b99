package dev.moesr.diffusion.sampling;

import java.util.Arrays;

/**
 * The timesteps a sampler visits and the DDIM coefficients of each step, after LDM's
 * "uniform" respacing: with c = T / steps, the model is called at t = 1, 1 + c, 1 + 2c, ...
 * (t = 1, 6, ..., 996 for 200 of 1000 steps). At step i (visited from the last to the first)
 * abar = abar[t_i] and abar_prev = abar[t_{i-1}] (abar[0] for the first), and
 * sigma_i = eta * sqrt((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)).
 * eta = 1 is ancestral DDPM sampling on the respaced chain; eta = 0 is deterministic DDIM.
 */
public final class SamplingPlan {
    private final int[] timesteps;
    private final double[] alpha;
    private final double[] alphaPrev;
    private final double[] sigma;
    private final double eta;

    private SamplingPlan(int[] timesteps, double[] alpha, double[] alphaPrev, double[] sigma, double eta) {
        this.timesteps = timesteps;
        this.alpha = alpha;
        this.alphaPrev = alphaPrev;
        this.sigma = sigma;
        this.eta = eta;
    }

    public static SamplingPlan uniform(NoiseSchedule schedule, int steps, double eta) {
        int total = schedule.steps();
        if (steps < 1 || steps > total) {
            throw new IllegalArgumentException("sampling steps must be in [1, " + total + "], got " + steps);
        }
        if (total % steps != 0) {
            throw new IllegalArgumentException(steps + " steps do not divide the " + total + " training timesteps evenly; use a divisor such as 200, 100, 50 or 20");
        }
        if (!(eta >= 0)) throw new IllegalArgumentException("eta must be >= 0, got " + eta);
        int c = total / steps;
        int shift = c == 1 ? 0 : 1;   // LDM's +1 shift (t = 1, 6, ..., 996 for 200 steps); the full schedule is 0 .. T-1 (T itself is no timestep)
        int[] ts = new int[steps];
        double[] a = new double[steps], ap = new double[steps], s = new double[steps];
        for (int i = 0; i < steps; i++) {
            ts[i] = i * c + shift;
            a[i] = schedule.alphaCumprod(ts[i]);
            ap[i] = i == 0 ? schedule.alphaCumprod(0) : schedule.alphaCumprod(ts[i - 1]);
            s[i] = eta * Math.sqrt((1 - ap[i]) / (1 - a[i]) * (1 - a[i] / ap[i]));
        }
        return new SamplingPlan(ts, a, ap, s, eta);
    }

    public int steps() { return timesteps.length; }

    public double eta() { return eta; }

    /** The model timestep of step i (steps run from {@code steps() - 1} down to 0). */
    public int timestep(int i) { return timesteps[i]; }

    public int[] timesteps() { return timesteps.clone(); }

    public double alpha(int i) { return alpha[i]; }

    public double alphaPrev(int i) { return alphaPrev[i]; }

    public double sigma(int i) { return sigma[i]; }

    @Override public String toString() {
        return "SamplingPlan(" + steps() + " steps, eta " + eta + ", t = " + Arrays.toString(Arrays.copyOf(timesteps, Math.min(4, steps()))) + "...)";
    }
}
