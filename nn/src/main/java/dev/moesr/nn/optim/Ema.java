package dev.moesr.nn.optim;

import dev.moesr.nn.Buffer;
import dev.moesr.nn.InPlace;
import dev.moesr.nn.Module;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Exponential moving average of a model's trainable weights with the LDM rule (LitEma): at each
 * update, with n the number of updates so far including this one,
 * <pre>
 *   decay = min(decay_max, (1 + n) / (10 + n))      (or decay_max when num_updates is off)
 *   shadow = shadow - (1 - decay) * (shadow - param)
 * </pre>
 * The shadows are buffers named as LDM names them (the parameter name without dots), next to
 * {@code decay} and {@code num_updates} (-1 when the warm-up rule is off), so a checkpoint with
 * this module registered as {@code model_ema} has LDM's keys.
 */
public class Ema extends Module {
    private final Module model;
    private final Map<String, Parameter> tracked = new LinkedHashMap<>();
    private final Map<String, Buffer> shadows = new LinkedHashMap<>();
    private final Buffer decayBuffer;
    private final Buffer numUpdatesBuffer;
    private double decay;
    private long numUpdates;

    /** Tracks the trainable parameters of {@code model}, with the warm-up rule on. */
    public Ema(Module model, double decay) { this(model, decay, true); }

    @SuppressWarnings("try")   // the Scope / GradMode resources only bound a region
    public Ema(Module model, double decay, boolean useNumUpdates) {
        if (!(decay >= 0 && decay <= 1)) throw new IllegalArgumentException("EMA decay must be in [0, 1], got " + decay);
        this.model = model;
        this.decay = decay;
        this.numUpdates = useNumUpdates ? 0 : -1;
        this.decayBuffer = registerBuffer("decay", Tensor.scalar((float) decay));
        this.numUpdatesBuffer = registerBuffer("num_updates", Tensor.scalar(numUpdates));
        Map<String, String> shadowToParam = new LinkedHashMap<>();
        for (var e : model.namedTrainableParameters().entrySet()) {
            String shadowName = e.getKey().replace(".", "");
            String clash = shadowToParam.put(shadowName, e.getKey());
            if (clash != null || shadowName.equals("decay") || shadowName.equals("num_updates")) {
                throw new IllegalArgumentException("EMA buffer name '" + shadowName + "' of parameter '" + e.getKey() + "' clashes with "
                        + (clash != null ? "parameter '" + clash + "'" : "an EMA buffer") + " once dots are removed; rename one of them");
            }
            Tensor p = e.getValue().tensor();
            Tensor copy;
            try (GradMode off = GradMode.off()) {
                copy = p.copy();
            }
            tracked.put(shadowName, e.getValue());
            shadows.put(shadowName, registerBuffer(shadowName, copy));
        }
    }

    public double decay() { return decay; }

    /** Updates done so far, or -1 when the warm-up rule is off. */
    public long numUpdates() { return numUpdates; }

    /** The shadow (averaged) tensor of a model parameter, by the parameter's dotted name. */
    public Tensor shadow(String parameterName) {
        Buffer b = shadows.get(parameterName.replace(".", ""));
        if (b == null) throw new IllegalArgumentException("the EMA does not track a parameter named '" + parameterName + "'");
        return b.tensor();
    }

    /** The decay the next update will use. */
    public double nextDecay() {
        if (numUpdates < 0) return decay;
        long n = numUpdates + 1;
        return Math.min(decay, (1.0 + n) / (10.0 + n));
    }

    /** Moves every shadow towards the current model weights; returns the decay used. */
    public double update() {
        double d = nextDecay();
        if (numUpdates >= 0) numUpdates++;
        float rate = (float) (1 - d);
        for (var e : shadows.entrySet()) {
            Tensor shadow = e.getValue().tensor();
            Tensor param = tracked.get(e.getKey()).tensor();
            if (!param.device().equals(shadow.device())) {
                throw new IllegalStateException("EMA shadow of '" + e.getKey() + "' is on " + shadow.device() + " but the weight on " + param.device()
                        + ": move the model before creating its Ema");
            }
            shadow.backend().emaUpdate(shadow.storage(), param.storage(), rate);   // one fused pass per weight
        }
        numUpdatesBuffer.assign(new float[] {numUpdates});
        return d;
    }

    /** Writes the shadow weights into the model (for export or sampling). */
    public void copyTo() {
        for (var e : shadows.entrySet()) tracked.get(e.getKey()).assign(e.getValue().tensor());
        model.stateChanged();
    }

    /** Exchanges model weights and shadows in place (no second copy of the model is kept). */
    @SuppressWarnings("try")   // the Scope / GradMode resources only bound a region
    public void swap() {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            for (var e : shadows.entrySet()) {
                Tensor shadow = e.getValue().tensor();
                Tensor param = tracked.get(e.getKey()).tensor();
                Tensor saved = param.copy();
                InPlace.assign(param, shadow);
                InPlace.assign(shadow, saved);
                saved.release();
            }
        }
        model.stateChanged();
    }

    /**
     * Puts the shadow weights into the model until the returned handle is closed, which puts the
     * training weights back (LDM's ema_scope):
     * {@code try (var ignored = ema.useShadowWeights()) { sample(...); }}
     */
    public Swapped useShadowWeights() {
        swap();
        return new Swapped() {
            private boolean closed;

            @Override public void close() {
                if (closed) return;
                closed = true;
                swap();
            }
        };
    }

    /** A handle that puts the training weights back when closed. */
    public interface Swapped extends AutoCloseable {
        @Override void close();
    }

    @Override protected void afterLoad() {
        float[] d = decayBuffer.tensor().toFloatArray();
        float[] n = numUpdatesBuffer.tensor().toFloatArray();
        if (!(d[0] >= 0 && d[0] <= 1)) throw new IllegalArgumentException("loaded EMA decay " + d[0] + " is outside [0, 1]");
        if ((float) decay != d[0]) decay = d[0];   // keep the exact double when the file holds its float
        numUpdates = n[0] < 0 ? -1 : (long) n[0];
    }
}
