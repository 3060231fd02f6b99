package dev.moesr.nn.optim;

import dev.moesr.nn.InPlace;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam with PyTorch's semantics (torch.optim.Adam, amsgrad off): for each parameter with a gradient g,
 * <pre>
 *   g = g + weight_decay * p                    (L2 penalty; AdamW decays p directly instead)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * with t the parameter's own step count. State (exp_avg, exp_avg_sq, step) is allocated when the
 * optimiser is made, on each parameter's device, so it belongs to the scope open then.
 */
public class Adam extends Optimizer {
    public final double beta1, beta2, eps, weightDecay;
    private final boolean decoupledWeightDecay;
    private final Map<String, State> state = new LinkedHashMap<>();

    private static final class State {
        final Tensor expAvg, expAvgSq;
        long step;

        State(Tensor expAvg, Tensor expAvgSq) {
            this.expAvg = expAvg;
            this.expAvgSq = expAvgSq;
        }
    }

    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public Adam(Map<String, Parameter> params, double lr) { this(params, lr, 0.9, 0.999, 1e-8, 0); }

    public Adam(Map<String, Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this(params, lr, beta1, beta2, eps, weightDecay, false);
    }

    protected Adam(Map<String, Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        super(params, lr);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("Adam betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
        if (!(eps >= 0)) throw new IllegalArgumentException("Adam eps must be >= 0, got " + eps);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupledWeightDecay = decoupled;
        for (var e : params.entrySet()) {
            Tensor p = e.getValue().tensor();
            if (p.isComplex()) throw new IllegalArgumentException("parameter '" + e.getKey() + "' is complex; Adam here handles real parameters");
            state.put(e.getKey(), new State(Tensor.zerosLike(p), Tensor.zerosLike(p)));
        }
    }

    @Override public void step() {
        double lr = learningRate();
        for (var e : params().entrySet()) {
            Parameter param = e.getValue();
            Tensor grad = param.grad();
            if (grad == null) continue;
            State s = state.get(e.getKey());
            s.step++;
            // one fused pass per parameter (Backend.adamStep): a GPU runs one kernel, not a dozen
            Tensor p = param.tensor();
            Tensor g = grad.device().equals(p.device()) ? grad : grad.to(p.device());
            try {
                p.backend().adamStep(p.storage(), g.storage(), s.expAvg.storage(), s.expAvgSq.storage(), s.step,
                        (float) lr, (float) beta1, (float) beta2, (float) eps, (float) weightDecay, decoupledWeightDecay);
            } finally {
                if (g != grad) g.release();
            }
        }
    }

    /** The number of updates applied to parameter {@code name}. */
    public long stepCount(String name) {
        State s = state.get(name);
        if (s == null) throw new IllegalArgumentException("no parameter named '" + name + "' in this optimiser");
        return s.step;
    }

    /** Keys {@code <name>.exp_avg}, {@code <name>.exp_avg_sq} (live) and {@code <name>.step} (a new CPU scalar). */
    @Override public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : state.entrySet()) {
            out.put(e.getKey() + ".exp_avg", e.getValue().expAvg);
            out.put(e.getKey() + ".exp_avg_sq", e.getValue().expAvgSq);
            out.put(e.getKey() + ".step", Tensor.scalar(e.getValue().step));
        }
        return out;
    }

    @Override public void loadStateDict(Map<String, Tensor> saved) {
        List<String> problems = new ArrayList<>();
        for (var e : state.entrySet()) {
            Tensor p = params().get(e.getKey()).tensor();
            for (String k : new String[] {".exp_avg", ".exp_avg_sq"}) {
                Tensor t = saved.get(e.getKey() + k);
                if (t == null) problems.add("missing key '" + e.getKey() + k + "' (expected shape " + p.shape() + ")");
                else if (!t.shape().equals(p.shape())) problems.add("'" + e.getKey() + k + "' has shape " + t.shape() + ", expected " + p.shape());
            }
            Tensor step = saved.get(e.getKey() + ".step");
            if (step == null) problems.add("missing key '" + e.getKey() + ".step' (expected a scalar)");
            else if (step.numel() != 1) problems.add("'" + e.getKey() + ".step' has shape " + step.shape() + ", expected a scalar");
            else {
                float v = step.toFloatArray()[0];
                if (!(v >= 0) || v != Math.rint(v)) problems.add("'" + e.getKey() + ".step' must be a whole number >= 0, got " + v);
            }
        }
        for (String k : saved.keySet()) {
            int dot = k.lastIndexOf('.');
            String suffix = dot < 0 ? "" : k.substring(dot + 1);
            boolean known = dot > 0 && state.containsKey(k.substring(0, dot))
                    && (suffix.equals("exp_avg") || suffix.equals("exp_avg_sq") || suffix.equals("step"));
            if (!known) problems.add("unexpected key '" + k + "' of shape " + saved.get(k).shape() + ": no parameter of this optimiser has that state");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("cannot load the optimiser state (nothing was changed):\n  " + String.join("\n  ", problems));
        }
        for (var e : state.entrySet()) {
            State s = e.getValue();
            InPlace.assign(s.expAvg, saved.get(e.getKey() + ".exp_avg"));
            InPlace.assign(s.expAvgSq, saved.get(e.getKey() + ".exp_avg_sq"));
            s.step = (long) saved.get(e.getKey() + ".step").toFloatArray()[0];
        }
    }

    @Override public void release() {
        for (State s : state.values()) {
            s.expAvg.release();
            s.expAvgSq.release();
        }
    }
}
