package dev.moesr.diffusion.unet;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The block structure of a {@link UNetConfig}, worked out the way LDM's UNetModel.__init__ does
 * (one place, used by {@link UNet} to build itself), and the state-dict names and shapes it
 * implies, so a configuration can be described, counted and checked against a checkpoint
 * without allocating a single weight.
 *
 * <pre>
 *   input_blocks.0            conv 3x3 in_channels -> C
 *   per level, numResBlocks x [ResBlock (+ AttentionBlock + Space-MoE where ds is an attention rate)],
 *              then (but the last level) Downsample
 *   middle_block              ResBlock, AttentionBlock (+ Space-MoE), ResBlock
 *   output_blocks             per level from the deepest, numResBlocks + 1 x [ResBlock on cat(h, skip)
 *                             (+ AttentionBlock + Space-MoE)], the last of a level (but level 0) + Upsample
 *   out                       GroupNorm32, SiLU, conv 3x3 C -> out_channels
 * </pre>
 */
public final class UNetLayout {
    /** One layer of a block, in forward order. */
    public sealed interface Part permits InputConv, Res, Attention, Down, Up {}

    /** input_blocks.0.0: the 3x3 convolution from the input channels. */
    public record InputConv(int in, int out) implements Part {}

    public record Res(int in, int out) implements Part {}

    /** An attention block of {@code channels / headChannels} heads, followed by a Space-MoE of {@code experts} experts when > 0. */
    public record Attention(int channels, int heads, int experts) implements Part {}

    public record Down(int channels) implements Part {}

    public record Up(int channels) implements Part {}

    /** One of LDM's TimestepEmbedSequential blocks: its parts are children 0, 1, 2, ... (a Space-MoE is child "moe"). */
    public record Block(String name, List<Part> parts) {
        public Block {
            parts = List.copyOf(parts);
        }
    }

    private final UNetConfig config;
    private final List<Block> inputBlocks = new ArrayList<>();
    private final Block middleBlock;
    private final List<Block> outputBlocks = new ArrayList<>();

    private UNetLayout(UNetConfig cfg) {
        this.config = cfg;
        int mc = cfg.modelChannels();
        int[] mult = cfg.channelMult();
        inputBlocks.add(new Block("input_blocks.0", List.of(new InputConv(cfg.inChannels(), mc))));
        Deque<Integer> skips = new ArrayDeque<>();
        skips.push(mc);
        int ch = mc, ds = 1;
        for (int level = 0; level < mult.length; level++) {
            for (int r = 0; r < cfg.numResBlocks(); r++) {
                List<Part> parts = new ArrayList<>();
                parts.add(new Res(ch, mult[level] * mc));
                ch = mult[level] * mc;
                if (cfg.attendsAt(ds)) parts.add(attention(ch));
                inputBlocks.add(new Block("input_blocks." + inputBlocks.size(), parts));
                skips.push(ch);
            }
            if (level != mult.length - 1) {
                inputBlocks.add(new Block("input_blocks." + inputBlocks.size(), List.of(new Down(ch))));
                skips.push(ch);
                ds *= 2;
            }
        }
        middleBlock = new Block("middle_block", List.of(new Res(ch, ch), attention(ch), new Res(ch, ch)));
        for (int level = mult.length - 1; level >= 0; level--) {
            for (int i = 0; i <= cfg.numResBlocks(); i++) {
                List<Part> parts = new ArrayList<>();
                parts.add(new Res(ch + skips.pop(), mc * mult[level]));
                ch = mc * mult[level];
                if (cfg.attendsAt(ds)) parts.add(attention(ch));
                if (level > 0 && i == cfg.numResBlocks()) {
                    parts.add(new Up(ch));
                    ds /= 2;
                }
                outputBlocks.add(new Block("output_blocks." + outputBlocks.size(), parts));
            }
        }
    }

    private Attention attention(int ch) { return new Attention(ch, ch / config.headChannels(), config.spaceExperts()); }

    public static UNetLayout of(UNetConfig config) { return new UNetLayout(config); }

    public UNetConfig config() { return config; }

    public List<Block> inputBlocks() { return Collections.unmodifiableList(inputBlocks); }

    public Block middleBlock() { return middleBlock; }

    public List<Block> outputBlocks() { return Collections.unmodifiableList(outputBlocks); }

    /** Every block in forward order. */
    public List<Block> blocks() {
        List<Block> all = new ArrayList<>(inputBlocks);
        all.add(middleBlock);
        all.addAll(outputBlocks);
        return all;
    }

    /** The number of Space-MoE layers (one per attention block; 0 without experts). */
    public int moeLayers() {
        if (config.spaceExperts() == 0) return 0;
        int n = 0;
        for (Block b : blocks()) for (Part p : b.parts()) if (p instanceof Attention) n++;
        return n;
    }

    /**
     * The state dict this configuration gives {@link UNet}: names in state-dict order and shapes.
     * LDM's names throughout; the Space-MoE of a block is its child {@code moe}
     * ({@code <block>.moe.norm.*}, {@code <block>.moe.experts.<i>.0.*} and {@code .2.*}).
     */
    public Map<String, int[]> stateShapes() { return stateShapes(false); }

    /**
     * The state dict of the UNet with its Space-MoE layers in their averaged form
     * ({@code <block>.moe.norm.*}, {@code <block>.moe.ffn.0.*}, {@code <block>.moe.ffn.2.*}: one
     * FFN for the mean of the experts, see {@link SpaceMoE}); the rest as {@link #stateShapes()}.
     */
    public Map<String, int[]> averagedStateShapes() { return stateShapes(true); }

    /**
     * Each name of {@link #averagedStateShapes} and the names of {@link #stateShapes} it comes
     * from: the experts' tensors in expert order for an averaged FFN tensor (their mean, by
     * {@link SpaceMoE#meanOfExperts}), the same name for everything else.
     */
    public Map<String, List<String>> averagedSources() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String name : averagedStateShapes().keySet()) {
            int at = name.indexOf(".moe.ffn.");
            if (at < 0) {
                out.put(name, List.of(name));
                continue;
            }
            List<String> experts = new ArrayList<>();
            for (int i = 0; i < config.spaceExperts(); i++) {
                experts.add(name.substring(0, at) + ".moe.experts." + i + "." + name.substring(at + ".moe.ffn.".length()));
            }
            out.put(name, List.copyOf(experts));
        }
        return out;
    }

    private Map<String, int[]> stateShapes(boolean averaged) {
        Map<String, int[]> out = new LinkedHashMap<>();
        int mc = config.modelChannels(), emb = config.timeEmbedChannels();
        put(out, "time_embed.0", linear(mc, emb));
        put(out, "time_embed.2", linear(emb, emb));
        for (Block b : blocks()) {
            for (int i = 0; i < b.parts().size(); i++) {
                Part p = b.parts().get(i);
                String at = b.name() + "." + i;
                if (p instanceof InputConv c) {
                    put(out, at, conv(c.in(), c.out(), 3));
                } else if (p instanceof Res r) {
                    put(out, at, ResBlock.stateShapes(r.in(), r.out(), emb));
                } else if (p instanceof Attention a) {
                    put(out, at, AttentionBlock.stateShapes(a.channels()));
                    if (a.experts() > 0) {
                        put(out, b.name() + ".moe", averaged ? SpaceMoE.averagedStateShapes(a.channels()) : SpaceMoE.stateShapes(a.channels(), a.experts()));
                    }
                } else if (p instanceof Down d) {
                    put(out, at + ".op", conv(d.channels(), d.channels(), 3));
                } else if (p instanceof Up u) {
                    put(out, at + ".conv", conv(u.channels(), u.channels(), 3));
                }
            }
        }
        put(out, "out.0", norm(mc));
        put(out, "out.2", conv(mc, config.outChannels(), 3));
        return out;
    }

    /**
     * Each state-dict name of ours and the name the authors' released code gives the same tensor.
     * Their Space-MoE ("FeedForwardMoe") is a sibling right after the attention block, so in a
     * block with experts it takes the next index and what followed moves up by one
     * ({@code middle_block.2} is their {@code middle_block.3}; an Upsample at 2 is their 3);
     * their names inside it are {@code moe_norm} and {@code moe_blocks.<i>.{0,3}} (a Dropout sits at 2).
     */
    public Map<String, String> releasedNames() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : stateShapes().keySet()) out.put(name, releasedName(name));
        return out;
    }

    private String releasedName(String name) {
        for (Block b : blocks()) {
            if (!name.startsWith(b.name() + ".")) continue;
            int attention = -1;
            for (int i = 0; i < b.parts().size(); i++) if (b.parts().get(i) instanceof Attention a && a.experts() > 0) attention = i;
            if (attention < 0) return name;
            String rest = name.substring(b.name().length() + 1);
            String moeIndex = b.name() + "." + (attention + 1) + ".";
            if (rest.startsWith("moe.norm.")) return moeIndex + "moe_norm." + rest.substring("moe.norm.".length());
            if (rest.startsWith("moe.experts.")) {
                String[] p = rest.split("\\.", 5);   // moe, experts, i, layer, weight|bias
                return moeIndex + "moe_blocks." + p[2] + "." + (p[3].equals("2") ? "3" : p[3]) + "." + p[4];
            }
            int dot = rest.indexOf('.');
            int index = Integer.parseInt(rest.substring(0, dot));
            return index > attention ? b.name() + "." + (index + 1) + rest.substring(dot) : name;
        }
        return name;
    }

    /** The number of parameters of the UNet, from {@link #stateShapes} (every entry is a parameter). */
    public long parameterCount() {
        long n = 0;
        for (int[] s : stateShapes().values()) {
            long k = 1;
            for (int d : s) k *= d;
            n += k;
        }
        return n;
    }

    // ---- shapes of the nn layers, as PyTorch names them ----------------------------------------

    static Map<String, int[]> linear(int in, int out) { return weightAndBias(new int[] {out, in}, out); }

    static Map<String, int[]> conv(int in, int out, int k) { return weightAndBias(new int[] {out, in, k, k}, out); }

    static Map<String, int[]> conv1d(int in, int out) { return weightAndBias(new int[] {out, in, 1}, out); }

    static Map<String, int[]> norm(int c) { return weightAndBias(new int[] {c}, c); }

    private static Map<String, int[]> weightAndBias(int[] weight, int bias) {
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put("weight", weight);
        m.put("bias", new int[] {bias});
        return m;
    }

    /** Adds {@code prefix.key} for each entry, in order. */
    static void put(Map<String, int[]> out, String prefix, Map<String, int[]> shapes) {
        for (var e : shapes.entrySet()) out.put(prefix + "." + e.getKey(), e.getValue());
    }
}
