package dev.moesr.diffusion.unet;

import dev.moesr.nn.Buffer;
import dev.moesr.nn.InPlace;
import dev.moesr.nn.Layer;
import dev.moesr.nn.ModuleList;
import dev.moesr.nn.Parameter;
import dev.moesr.nn.Sequential;
import dev.moesr.nn.layers.GELU;
import dev.moesr.nn.layers.LayerNorm;
import dev.moesr.nn.layers.Linear;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The paper's Space-MoE feed-forward layer, placed after an attention block: a residual
 * {@code y = x + E(LayerNorm(x))} over the H*W tokens of a (B, C, H, W) map, with N experts
 * {@code E_i = Linear(C, 4C) -> GELU -> Linear(4C, C)}.
 *
 * <p>Routing (training, and inference with {@link Inference#RANDOM_ROUTING}): one random
 * permutation of the H*W token positions from the routing {@link Philox} stream
 * ({@link Philox#permutation}), shared by the batch, is cut into N equal groups; the tokens of
 * group i go through expert i and come back to their places. H*W must be a multiple of N.
 *
 * <p>Inference with {@link Inference#AVERAGED} (the default, the paper's): one FFN whose weights
 * and biases are the mean of the experts'. Without gradients these averaged weights are kept
 * (in non-persistent buffers) until the experts change; the layer knows of changes made by a
 * training-mode forward, {@link #shareWeights}, loading a state dict, an EMA swap or copy
 * ({@link dev.moesr.nn.Module#stateChanged()}), and {@link #forgetAveragedWeights()}, which
 * anyone who writes expert weights by other means must call. {@link UNet#train(boolean)} calls it too.
 *
 * <p>State dict: {@code norm.{weight,bias}}, {@code experts.<i>.0.{weight,bias}} (C -> 4C) and
 * {@code experts.<i>.2.{weight,bias}} (4C -> C).
 *
 * <p>The averaged form (built with {@code averaged = true}) holds only what averaged inference
 * uses: {@code norm.*} and one FFN {@code ffn.0.{weight,bias}}, {@code ffn.2.{weight,bias}} whose
 * weights are the mean of the N experts' (computed as {@link #mean} does, so inference gives
 * the same values bit for bit). It cannot be trained, share weights or route tokens: those need
 * the experts, and each refuses with a one-line message.
 */
public final class SpaceMoE extends Layer {
    /** How the layer runs in evaluation mode. */
    public enum Inference {
        /** One FFN with the mean of the experts' weights (the paper). */
        AVERAGED,
        /** Random routing as in training (the released code's inference). */
        RANDOM_ROUTING
    }

    public final int channels, experts;
    private final boolean averagedForm;
    private final LayerNorm norm;
    private final ModuleList<Sequential> expertList;   // null in the averaged form
    private final Sequential ffn;                      // the averaged form's FFN, else null
    private final Buffer avgW1t, avgB1, avgW2t, avgB2;   // the averaged FFN, weights transposed for x @ W^T
    private boolean averageCurrent;
    private Inference inference = Inference.AVERAGED;
    private Philox routing;

    /** Experts get PyTorch's default Linear initialisation from {@code rng}, which also routes tokens until {@link #setRoutingRng}. */
    public SpaceMoE(int channels, int experts, Philox rng) { this(channels, experts, rng, false); }

    /**
     * With {@code averaged}, the averaged form: the norm and one FFN standing for the mean of
     * {@code experts} experts (see the class comment); otherwise as {@link #SpaceMoE(int, int, Philox)}.
     */
    public SpaceMoE(int channels, int experts, Philox rng, boolean averaged) {
        if (channels <= 0) throw new IllegalArgumentException("Space-MoE needs positive channels, got " + channels);
        if (experts < 1) throw new IllegalArgumentException("Space-MoE needs at least one expert, got " + experts);
        this.channels = channels;
        this.experts = experts;
        this.routing = rng;
        this.averagedForm = averaged;
        norm = registerModule("norm", new LayerNorm(channels));
        if (averaged) {
            expertList = null;
            ffn = registerModule("ffn", new Sequential(new Linear(channels, 4 * channels, rng), new GELU(), new Linear(4 * channels, channels, rng)));
        } else {
            ffn = null;
            expertList = registerModule("experts", new ModuleList<>());
            for (int i = 0; i < experts; i++) {
                expertList.add(new Sequential(new Linear(channels, 4 * channels, rng), new GELU(), new Linear(4 * channels, channels, rng)));
            }
        }
        avgW1t = registerBuffer("averaged_w1t", Tensor.zeros(channels, 4 * channels), false);
        avgB1 = registerBuffer("averaged_b1", Tensor.zeros(4 * channels), false);
        avgW2t = registerBuffer("averaged_w2t", Tensor.zeros(4 * channels, channels), false);
        avgB2 = registerBuffer("averaged_b2", Tensor.zeros(channels), false);
    }

    public Inference inference() { return inference; }

    public void setInference(Inference mode) {
        if (mode == null) throw new IllegalArgumentException("inference mode must not be null");
        this.inference = mode;
    }

    /** The stream that draws token permutations. */
    public Philox routingRng() { return routing; }

    public void setRoutingRng(Philox rng) {
        if (rng == null) throw new IllegalArgumentException("the routing generator must not be null");
        this.routing = rng;
    }

    /** Whether this is the averaged form (one FFN for the mean of the experts, inference only). */
    public boolean isAveragedForm() { return averagedForm; }

    /** Expert {@code i}: Sequential(Linear(C, 4C), GELU, Linear(4C, C)); not in the averaged form. */
    public Sequential expert(int i) {
        if (averagedForm) throw averagedOnly("has no expert " + i);
        return expertList.get(i);
    }

    /** The averaged form's FFN (Linear(C, 4C), GELU, Linear(4C, C)); null in the full form. */
    public Sequential averagedFfn() { return ffn; }

    private IllegalStateException averagedOnly(String what) {
        return new IllegalStateException("this Space-MoE layer holds only the average of its " + experts + " experts (an averaged inference model) and "
                + what + "; training, weight sharing and routed inference need the full model with every expert");
    }

    public LayerNorm norm() { return norm; }

    /** {@code x} is (B, C, H, W); returns the same shape. */
    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != channels) {
            throw new IllegalArgumentException("Space-MoE(" + channels + ") needs (B, " + channels + ", H, W) input, got " + x.shape());
        }
        int b = x.dim(0), len = x.dim(2) * x.dim(3);
        Tensor tokens = norm.forward(x.reshape(b, channels, len).transpose(1, 2));   // (B, L, C)
        Tensor y;
        if (averagedForm && (isTraining() || inference == Inference.RANDOM_ROUTING)) {
            throw averagedOnly(isTraining() ? "cannot be trained" : "cannot route tokens to experts");
        }
        if (isTraining()) {
            averageCurrent = false;   // an optimiser step is about to change the experts
            y = routed(tokens, x);
        } else if (inference == Inference.RANDOM_ROUTING) {
            y = routed(tokens, x);
        } else {
            y = averaged(tokens);
        }
        return x.add(y.transpose(1, 2).reshape(x.dims()));
    }

    /** Each token through the expert of its group under a fresh random permutation. */
    private Tensor routed(Tensor tokens, Tensor x) {
        int len = tokens.dim(1);
        if (len % experts != 0) {
            throw new IllegalArgumentException("Space-MoE routing splits the H*W = " + x.dim(2) + "*" + x.dim(3) + " = " + len + " tokens of " + x.shape()
                    + " into " + experts + " equal groups, but " + len + " is not a multiple of " + experts
                    + "; use a latent size whose token count at this level divides by " + experts + ", another number of experts, or averaged inference");
        }
        int[] perm = routing.permutation(len);
        int group = len / experts;
        float[] order = new float[len], inverse = new float[len];
        for (int k = 0; k < len; k++) {
            order[k] = perm[k];
            inverse[perm[k]] = k;
        }
        Tensor index = Tensor.of(tokens.device(), order, len);   // group i is index[i*group, (i+1)*group): a view, no copy
        Tensor[] outs = new Tensor[experts];
        for (int i = 0; i < experts; i++) {
            outs[i] = expertList.get(i).forward(tokens.indexSelect(1, index.slice(0, i * group, (i + 1) * group)));
        }
        Tensor joined = experts == 1 ? outs[0] : Tensor.cat(1, outs);   // tokens in permuted order
        return joined.indexSelect(1, Tensor.of(tokens.device(), inverse, len));
    }

    /** The FFN of averaged weights: on the fly when gradients may flow to the experts, else the kept copy. */
    private Tensor averaged(Tensor tokens) {
        Sequential first = averagedForm ? ffn : expertList.get(0);
        if (GradMode.isEnabled() && first.get(0) instanceof Linear l && l.weight().isTrainable()) {
            Tensor w1 = mean("0.weight"), b1 = mean("0.bias"), w2 = mean("2.weight"), b2 = mean("2.bias");
            return tokens.matmul(w1.transpose(0, 1)).add(b1).gelu().matmul(w2.transpose(0, 1)).add(b2);
        }
        if (!averageCurrent || avgW1t.tensor().device() != tokens.device()) averageExperts();
        return tokens.matmul(avgW1t.tensor()).add(avgB1.tensor()).gelu().matmul(avgW2t.tensor()).add(avgB2.tensor());
    }

    /** The sum over the experts of the parameter {@code name} (relative to an expert), with the graph. */
    private Tensor sum(String name) {
        Tensor sum = param(0, name).tensor();
        for (int i = 1; i < experts; i++) sum = sum.add(param(i, name).tensor());
        return sum;
    }

    /** The mean over the experts of the parameter {@code name}, with the graph (the averaged form's FFN holds it already). */
    private Tensor mean(String name) {
        if (averagedForm) return ffn.namedParameters().get(name).tensor();
        return experts == 1 ? sum(name) : sum(name).mul(1f / experts);
    }

    /** Expert {@code i}'s value of one tensor (read from a file, say), for {@link #meanOfExperts}. */
    @FunctionalInterface
    public interface ExpertTensor {
        Tensor get(int expert) throws IOException;
    }

    /**
     * The mean over {@code n} experts of one tensor exactly as inference computes it from the
     * experts ({@link #mean}): summed in expert order, then multiplied by 1/n (nothing for one).
     * The averaged form's FFN weights are this of the full form's, so both forms infer the same
     * values bit for bit. The experts' tensors are fetched one at a time; with
     * {@code releaseInputs} each is released once added (for tensors read from a file, not for
     * live parameters). The result is a new tensor, or the single input when {@code n} is 1.
     */
    public static Tensor meanOfExperts(int n, ExpertTensor values, boolean releaseInputs) throws IOException {
        if (n < 1) throw new IllegalArgumentException("the mean of " + n + " experts");
        Tensor sum = values.get(0);
        for (int i = 1; i < n; i++) {
            Tensor t = values.get(i);
            Tensor next = sum.add(t);
            if (releaseInputs) t.release();
            if (i > 1 || releaseInputs) sum.release();   // the first sum is expert 0's own tensor
            sum = next;
        }
        if (n == 1) return sum;
        Tensor mean = sum.mul(1f / n);
        sum.release();
        return mean;
    }

    /** Computes the averaged FFN now from the current expert weights (inference calls this when needed). */
    @SuppressWarnings("try")   // the Scope / GradMode resources only bound a region
    public void averageExperts() {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            InPlace.assign(avgW1t.tensor(), mean("0.weight").transpose(0, 1));
            InPlace.assign(avgB1.tensor(), mean("0.bias"));
            InPlace.assign(avgW2t.tensor(), mean("2.weight").transpose(0, 1));
            InPlace.assign(avgB2.tensor(), mean("2.bias"));
        }
        averageCurrent = true;
    }

    /** Marks the averaged FFN as out of date: call after writing expert weights by means this layer cannot see. */
    public void forgetAveragedWeights() { averageCurrent = false; }

    /**
     * The paper's weight sharing (Eq. 5), for each expert i and each of its weights and biases:
     * {@code W_i <- gamma W_i + (1 - gamma) mean_{j != i} W_j}, all from the weights before this
     * call, written in place into the same parameter tensors (optimisers keep updating them).
     * Nothing changes with a single expert.
     */
    @SuppressWarnings("try")   // the Scope / GradMode resources only bound a region
    public void shareWeights(double gamma) {
        if (averagedForm) throw averagedOnly("cannot share weights between experts");
        if (!(gamma >= 0 && gamma <= 1)) throw new IllegalArgumentException("weight-sharing momentum gamma must be in [0, 1], got " + gamma);
        averageCurrent = false;
        if (experts == 1 || gamma == 1) return;
        // W_i' = gamma W_i + (1 - gamma) (S - W_i) / (N - 1) = a W_i + c S, with S the sum of all experts
        float c = (float) ((1 - gamma) / (experts - 1));
        float a = (float) gamma - c;
        for (String name : expertList.get(0).namedParameters().keySet()) {
            try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
                Tensor[] updated = new Tensor[experts];
                Tensor sumScaled = sum(name).mul(c);
                for (int i = 0; i < experts; i++) updated[i] = param(i, name).tensor().mul(a).add(sumScaled);
                for (int i = 0; i < experts; i++) param(i, name).assign(updated[i]);
            }
        }
    }

    private Parameter param(int expert, String name) { return expertList.get(expert).namedParameters().get(name); }

    @Override protected void afterLoad() { averageCurrent = false; }

    /** The state-dict names and shapes of the averaged form over {@code c} channels, in order. */
    static Map<String, int[]> averagedStateShapes(int c) {
        Map<String, int[]> m = new LinkedHashMap<>();
        UNetLayout.put(m, "norm", UNetLayout.norm(c));
        UNetLayout.put(m, "ffn.0", UNetLayout.linear(c, 4 * c));
        UNetLayout.put(m, "ffn.2", UNetLayout.linear(4 * c, c));
        return m;
    }

    /** The state-dict names and shapes of a Space-MoE over {@code c} channels with {@code n} experts, in order. */
    static Map<String, int[]> stateShapes(int c, int n) {
        Map<String, int[]> m = new LinkedHashMap<>();
        UNetLayout.put(m, "norm", UNetLayout.norm(c));
        for (int i = 0; i < n; i++) {
            UNetLayout.put(m, "experts." + i + ".0", UNetLayout.linear(c, 4 * c));
            UNetLayout.put(m, "experts." + i + ".2", UNetLayout.linear(4 * c, c));
        }
        return m;
    }

    @Override public String toString() {
        return "SpaceMoE(" + channels + ", " + experts + " experts" + (averagedForm ? " averaged into one FFN" : "") + ", inference " + inference + ")";
    }
}
