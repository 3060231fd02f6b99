package dev.moesr.tensor.testing;

/** The optimiser update rules in double precision, the reference of every backend's fused updates. */
public final class OptimReference {
    private OptimReference() {}

    /**
     * One Adam step in place on p, m, v (PyTorch's rule): decoupled weight decay (AdamW) scales p,
     * otherwise weightDecay * p joins the gradient; bias corrections 1 - beta^step.
     */
    public static void adamStep(double[] p, double[] m, double[] v, float[] grad, int step,
                                float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled) {
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        for (int i = 0; i < p.length; i++) {
            double g = decoupled ? grad[i] : grad[i] + (double) weightDecay * p[i];
            if (decoupled) p[i] *= 1 - (double) lr * weightDecay;
            m[i] = beta1 * m[i] + (1 - (double) beta1) * g;
            v[i] = beta2 * v[i] + (1 - (double) beta2) * g * g;
            p[i] -= lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + eps);
        }
    }

    /** ema + (1 - decay) (param - ema), element by element. */
    public static double[] emaUpdate(float[] ema, float[] param, float decay) {
        double[] out = new double[ema.length];
        for (int i = 0; i < out.length; i++) out[i] = ema[i] + (1 - (double) decay) * (param[i] - ema[i]);
        return out;
    }
}
