package dev.moesr.nn.loss;

import dev.moesr.tensor.Tensor;

/** Scalar losses (mean reduction, as PyTorch's defaults). */
public final class Losses {
    private Losses() {}

    /** mean((pred - target)^2). */
    public static Tensor mse(Tensor pred, Tensor target) {
        sameShape("mse", pred, target);
        return pred.sub(target).square().mean();
    }

    /** mean(|pred - target|). */
    public static Tensor l1(Tensor pred, Tensor target) {
        sameShape("l1", pred, target);
        return pred.sub(target).abs().mean();
    }

    /**
     * Hinge loss of a discriminator: mean(relu(1 - real)) + mean(relu(1 + fake)), from its logits
     * on real and generated samples. (taming-transformers' hinge_d_loss is half of this; scale
     * the result by 0.5 to match it.)
     */
    public static Tensor hingeDiscriminator(Tensor realLogits, Tensor fakeLogits) {
        real("hinge", realLogits);
        real("hinge", fakeLogits);
        Tensor lossReal = realLogits.neg().add(1f).relu().mean();
        Tensor lossFake = fakeLogits.add(1f).relu().mean();
        return lossReal.add(lossFake);
    }

    /** Hinge loss of the generator: -mean(fake logits). */
    public static Tensor hingeGenerator(Tensor fakeLogits) {
        real("hinge", fakeLogits);
        return fakeLogits.mean().neg();
    }

    static void sameShape(String loss, Tensor a, Tensor b) {
        real(loss, a);
        real(loss, b);
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException(loss + " loss needs prediction and target of the same shape, got " + a.shape() + " and " + b.shape());
        }
        if (a.numel() == 0) throw new IllegalArgumentException(loss + " loss of empty tensors " + a.shape() + " is undefined");
    }

    private static void real(String loss, Tensor t) {
        if (t.isComplex()) throw new IllegalArgumentException(loss + " loss takes real tensors, got a complex one of shape " + t.shape());
    }
}
