package dev.moesr.nn.optim;

import dev.moesr.nn.Module;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

/**
 * A tiny problem for optimiser tests: two parameters and loss sum(c * (p - t)^2) over both, so
 * the gradient 2c(p - t) is known in closed form for the double-precision reference.
 */
@SuppressWarnings("try")   // scopes in tests only bound a region
final class Quadratic extends Module {
    static final float[] A0 = {0.5f, -1.25f, 2f, 0.1f}, B0 = {-0.3f, 0.7f};
    static final float[] TA = {1f, 0.5f, -1f, 0.3f}, TB = {0.2f, -0.4f};
    static final float[] CA = {1f, 3f, 0.5f, 2f}, CB = {4f, 0.25f};

    final Parameter a, b;

    Quadratic() {
        a = registerParameter("a", Tensor.of(A0.clone(), 2, 2));
        b = registerParameter("b", Tensor.of(B0.clone(), 2));
    }

    /** Fills the gradients by backward of the loss at the current parameters. */
    void backward() {
        try (Scope s = Scope.open()) {
            Tensor la = a.tensor().sub(Tensor.of(TA, 2, 2)).square().mul(Tensor.of(CA, 2, 2)).sum();
            Tensor lb = b.tensor().sub(Tensor.of(TB, 2)).square().mul(Tensor.of(CB, 2)).sum();
            la.add(lb).backward();
        }
    }

    /** The gradient of the loss in double for reference parameters p (a then b, flat). */
    static double[] grad(double[] p) {
        double[] g = new double[p.length];
        for (int i = 0; i < 4; i++) g[i] = 2 * CA[i] * (p[i] - TA[i]);
        for (int i = 0; i < 2; i++) g[4 + i] = 2 * CB[i] * (p[4 + i] - TB[i]);
        return g;
    }

    static double[] start() {
        double[] p = new double[6];
        for (int i = 0; i < 4; i++) p[i] = A0[i];
        for (int i = 0; i < 2; i++) p[4 + i] = B0[i];
        return p;
    }

    double[] values() {
        float[] fa = a.tensor().toFloatArray(), fb = b.tensor().toFloatArray();
        return new double[] {fa[0], fa[1], fa[2], fa[3], fb[0], fb[1]};
    }
}
