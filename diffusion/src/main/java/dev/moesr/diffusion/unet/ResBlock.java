package dev.moesr.diffusion.unet;

import dev.moesr.nn.InPlace;
import dev.moesr.nn.Layer;
import dev.moesr.nn.Module;
import dev.moesr.nn.Sequential;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.Dropout;
import dev.moesr.nn.layers.GroupNorm;
import dev.moesr.nn.layers.Identity;
import dev.moesr.nn.layers.Linear;
import dev.moesr.nn.layers.SiLU;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * LDM's ResBlock without scale-shift norm or resampling:
 * <pre>
 *   h = in_layers(x)                      GroupNorm32, SiLU, conv 3x3 in -> out
 *   h = h + emb_layers(emb)[:, :, 1, 1]   SiLU, Linear(emb -> out)
 *   h = out_layers(h)                     GroupNorm32, SiLU, Dropout, conv 3x3 out -> out (zero at start)
 *   y = skip_connection(x) + h            identity, or a 1x1 conv when the width changes
 * </pre>
 */
public final class ResBlock extends Module {
    public final int inChannels, outChannels;
    private final Sequential embLayers;
    private final Layer skip;
    // the layers of in_layers and out_layers (registered through those Sequentials for the
    // state-dict names), called directly so that each GroupNorm + SiLU runs as one fused kernel
    private final GroupNorm inNorm, outNorm;
    private final Conv2d inConv, outConv;
    private final Dropout outDropout;

    public ResBlock(int inChannels, int outChannels, int embChannels, float dropout, Philox rng) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        inNorm = new GroupNorm(UNetConfig.NORM_GROUPS, inChannels);
        inConv = new Conv2d(inChannels, outChannels, 3, 1, 1, rng);
        registerModule("in_layers", new Sequential(inNorm, new SiLU(), inConv));
        embLayers = registerModule("emb_layers", new Sequential(new SiLU(), new Linear(embChannels, outChannels, rng)));
        outNorm = new GroupNorm(UNetConfig.NORM_GROUPS, outChannels);
        outConv = new Conv2d(outChannels, outChannels, 3, 1, 1, rng);   // before the dropout, as it always was: rng order
        zero(outConv);
        outDropout = new Dropout(dropout, rng);
        registerModule("out_layers", new Sequential(outNorm, new SiLU(), outDropout, outConv));
        skip = registerModule("skip_connection", inChannels == outChannels ? new Identity() : new Conv2d(inChannels, outChannels, 1, 1, 0, rng));
    }

    /** LDM's zero_module: a layer whose output starts at zero. */
    static void zero(Conv2d conv) {
        InPlace.fill(conv.weight().tensor(), 0f);
        if (conv.bias() != null) InPlace.fill(conv.bias().tensor(), 0f);
    }

    /** {@code x} is (B, in, H, W), {@code emb} the (B, embChannels) timestep embedding; returns (B, out, H, W). */
    public Tensor forward(Tensor x, Tensor emb) {
        if (x.rank() != 4 || x.dim(1) != inChannels) {
            throw new IllegalArgumentException("ResBlock(" + inChannels + " -> " + outChannels + ") needs (B, " + inChannels + ", H, W) input, got " + x.shape());
        }
        if (emb.rank() != 2 || emb.dim(0) != x.dim(0)) {
            throw new IllegalArgumentException("ResBlock: the timestep embedding " + emb.shape() + " must be (B, channels) for a batch of " + x.dim(0));
        }
        Tensor h = inConv.forward(inNorm.forwardSilu(x));
        h = h.add(embLayers.forward(emb).reshape(x.dim(0), outChannels, 1, 1));
        h = outConv.forward(outDropout.forward(outNorm.forwardSilu(h)));
        return skip.forward(x).add(h);
    }

    /** The state-dict names and shapes of a ResBlock(in -> out) with an {@code emb}-wide embedding, in order. */
    static Map<String, int[]> stateShapes(int in, int out, int emb) {
        Map<String, int[]> m = new LinkedHashMap<>();
        UNetLayout.put(m, "in_layers.0", UNetLayout.norm(in));
        UNetLayout.put(m, "in_layers.2", UNetLayout.conv(in, out, 3));
        UNetLayout.put(m, "emb_layers.1", UNetLayout.linear(emb, out));
        UNetLayout.put(m, "out_layers.0", UNetLayout.norm(out));
        UNetLayout.put(m, "out_layers.3", UNetLayout.conv(out, out, 3));
        if (in != out) UNetLayout.put(m, "skip_connection", UNetLayout.conv(in, out, 1));
        return m;
    }

    @Override public String toString() { return "ResBlock(" + inChannels + " -> " + outChannels + ")"; }
}
