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
    private final LayerNorm norm;
    private final ModuleList<Sequential> expertList;
    private final Buffer avgW1t, avgB1, avgW2t, avgB2;   // the averaged FFN, weights transposed for x @ W^T
    private boolean averageCurrent;
    private Inference inference = Inference.AVERAGED;
    private Philox routing;

    /** Experts get PyTorch's default Linear initialisation from {@code rng}, which also routes tokens until {@link #setRoutingRng}. */
    public SpaceMoE(int channels, int experts, Philox rng) {
        if (channels <= 0) throw new IllegalArgumentException("Space-MoE needs positive channels, got " + channels);
        if (experts < 1) throw new IllegalArgumentException("Space-MoE needs at least one expert, got " + experts);
        this.channels = channels;
        this.experts = experts;
        this.routing = rng;
        norm = registerModule("norm", new LayerNorm(channels));
        expertList = registerModule("experts", new ModuleList<>());
        for (int i = 0; i < experts; i++) {
            expertList.add(new Sequential(new Linear(channels, 4 * channels, rng), new GELU(), new Linear(4 * channels, channels, rng)));
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

    /** Expert {@code i}: Sequential(Linear(C, 4C), GELU, Linear(4C, C)). */
    public Sequential expert(int i) { return expertList.get(i); }

    public LayerNorm norm() { return norm; }

    /** {@code x} is (B, C, H, W); returns the same shape. */
    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != channels) {
            throw new IllegalArgumentException("Space-MoE(" + channels + ") needs (B, " + channels + ", H, W) input, got " + x.shape());
        }
        int b = x.dim(0), len = x.dim(2) * x.dim(3);
        Tensor tokens = norm.forward(x.reshape(b, channels, len).transpose(1, 2));   // (B, L, C)
        Tensor y;
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
        if (GradMode.isEnabled() && expert(0).get(0) instanceof Linear l && l.weight().isTrainable()) {
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

    /** The mean over the experts of the parameter {@code name}, with the graph. */
    private Tensor mean(String name) { return experts == 1 ? sum(name) : sum(name).mul(1f / experts); }

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

    @Override public String toString() { return "SpaceMoE(" + channels + ", " + experts + " experts, inference " + inference + ")"; }
}
