package dev.moesr.diffusion.unet;

/**
 * The schedule of the Space-MoE weight sharing (paper Eq. 5): after optimiser step {@code step},
 * every expert moves toward the mean of the others by beta = 1 - gamma, with beta ramping
 * linearly from 0 to {@code maxBeta} over the first {@code rampSteps} steps and constant after
 * (no ramp when {@code rampSteps} is 0).
 *
 * @param maxBeta   the largest 1 - gamma, in [0, 1]
 * @param rampSteps steps of the linear ramp from 0, or 0 for a constant beta
 */
public record ExpertSharing(double maxBeta, long rampSteps) {
    public ExpertSharing {
        if (!(maxBeta >= 0 && maxBeta <= 1)) throw new IllegalArgumentException("the sharing rate beta = 1 - gamma must be in [0, 1], got " + maxBeta);
        if (rampSteps < 0) throw new IllegalArgumentException("ramp steps must be >= 0, got " + rampSteps);
    }

    /** The released code: beta from 0 to 0.3 over the first 10k steps. */
    public static ExpertSharing released() { return new ExpertSharing(0.3, 10_000); }

    /** The paper's recommendation: gamma = 0.999 throughout. */
    public static ExpertSharing paper() { return constantGamma(0.999); }

    public static ExpertSharing constantGamma(double gamma) { return new ExpertSharing(1 - gamma, 0); }

    /** beta after optimiser step {@code step} (counted from 0). */
    public double beta(long step) {
        if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
        if (rampSteps == 0) return maxBeta;
        return maxBeta * Math.min(step, rampSteps) / rampSteps;
    }

    public double gamma(long step) { return 1 - beta(step); }

    /** Shares the expert weights of every Space-MoE layer of {@code unet} with this step's gamma; returns it. */
    public double apply(UNet unet, long step) {
        double g = gamma(step);
        unet.shareExpertWeights(g);
        return g;
    }
}
