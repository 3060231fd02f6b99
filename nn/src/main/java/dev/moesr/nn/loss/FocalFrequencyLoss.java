package dev.moesr.nn.loss;

import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.ops.Reductions;

/**
 * Focal frequency loss (Jiang et al., ICCV 2021), as in the reference implementation with one
 * patch and per-image weighting: F = fft2(x, orthonormal) over the last two dimensions of every
 * image and channel; d = F_real - F_fake; w = |d|^alpha, optionally log(1 + w), divided by its
 * maximum over each image and channel, NaN set to 0, clamped to [0, 1] and detached (no gradient
 * flows through w); loss = weight * mean(w * |d|^2).
 */
public final class FocalFrequencyLoss {
    public final double alpha;
    public final boolean logMatrix;
    public final double weight;

    /** alpha 1, no log, loss weight 1: the defaults of the reference code. */
    public FocalFrequencyLoss() { this(1.0, false, 1.0); }

    public FocalFrequencyLoss(double alpha, boolean logMatrix, double weight) {
        if (!(alpha > 0)) throw new IllegalArgumentException("focal frequency alpha must be > 0, got " + alpha);
        this.alpha = alpha;
        this.logMatrix = logMatrix;
        this.weight = weight;
    }

    /** The loss of a generated image batch against the real one ([..., H, W], e.g. NCHW; same shapes). */
    @SuppressWarnings("try")   // the Scope / GradMode resources only bound a region
    public Tensor apply(Tensor fake, Tensor real) {
        Losses.sameShape("focal frequency", fake, real);
        if (fake.rank() < 2) throw new IllegalArgumentException("focal frequency loss needs images [..., H, W], got shape " + fake.shape());
        Tensor d = spectrum(real).sub(spectrum(fake));
        Tensor distance = d.real().square().add(d.imag().square());   // |d|^2, differentiable
        Tensor w;
        try (GradMode ignored = GradMode.off()) {
            Tensor m = distance.sqrt();
            if (alpha != 1.0) m = m.pow((float) alpha);
            if (logMatrix) m = m.add(1f).log();
            m = m.div(Reductions.max(m, new int[] {-2, -1}, true));
            // 0/0 where a spectrum matches exactly: NaN becomes 0 (NaN is the only value not equal to itself)
            m = Tensor.where(m.eq(m), m, Tensor.zeros(m.device()));
            w = m.clamp(0f, 1f);
        }
        Tensor loss = w.mul(distance).mean();
        return weight == 1.0 ? loss : loss.mul((float) weight);
    }

    private static Tensor spectrum(Tensor x) {
        return Tensor.complex(x, Tensor.zerosLike(x)).fft2();
    }
}
