package dev.moesr.nn.optim;

import dev.moesr.nn.Parameter;

import java.util.Map;

/**
 * AdamW (torch.optim.AdamW): Adam with decoupled weight decay, p = p * (1 - lr * weight_decay)
 * before the Adam update, instead of an L2 term in the gradient.
 */
public class AdamW extends Adam {

    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public AdamW(Map<String, Parameter> params, double lr) { this(params, lr, 0.9, 0.999, 1e-8, 0.01); }

    public AdamW(Map<String, Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        super(params, lr, beta1, beta2, eps, weightDecay, true);
    }
}
