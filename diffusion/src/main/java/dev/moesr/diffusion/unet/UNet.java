package dev.moesr.diffusion.unet;

import dev.moesr.nn.Module;
import dev.moesr.nn.ModuleList;
import dev.moesr.nn.Sequential;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.GroupNorm;
import dev.moesr.nn.layers.Linear;
import dev.moesr.nn.layers.SiLU;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;

/**
 * The denoising UNet: CompVis latent-diffusion's UNetModel ("openai" UNet, the bsr_sr shape) with
 * the paper's Space-MoE layer after each attention block. See {@link UNetLayout} for the block
 * structure and {@link UNetConfig} for the presets.
 *
 * <p>State-dict names are LDM's ({@code time_embed.0.weight}, {@code input_blocks.1.0.in_layers.2.weight},
 * {@code middle_block.1.qkv.weight}, {@code output_blocks.5.2.conv.weight}, {@code out.2.weight}, ...);
 * the Space-MoE of a block is its child {@code moe}: {@code input_blocks.7.moe.norm.weight},
 * {@code middle_block.moe.experts.3.0.weight}, {@code output_blocks.2.moe.experts.15.2.bias}.
 * The configuration travels in the safetensors metadata ({@link UNetConfig#toMetadata}).
 *
 * <p>Forward: {@code eps = unet.forward(cat(z_t, condition), timesteps)}. Without gradients
 * (inference) each block's temporaries are freed as soon as the block is done.
 */
public final class UNet extends Module {
    private final UNetConfig config;
    private final Sequential timeEmbed;
    private final ModuleList<UNetBlock> inputBlocks;
    private final UNetBlock middleBlock;
    private final ModuleList<UNetBlock> outputBlocks;
    private final Sequential out;
    private final List<SpaceMoE> moeLayers = new ArrayList<>();
    private final boolean averagedMoe;

    /**
     * Builds the UNet on the CPU with LDM's initialisation (PyTorch defaults, zero output
     * convolutions) drawn from {@code rng}; the same stream then routes Space-MoE tokens and
     * draws dropout masks (replace the router with {@link #setRoutingRng}).
     */
    public UNet(UNetConfig config, Philox rng) { this(config, rng, false); }

    /**
     * With {@code averagedMoe}, every Space-MoE layer is built in its averaged form (one FFN for
     * the mean of its experts: inference only, see {@link SpaceMoE}); state-dict names
     * {@code <block>.moe.ffn.*} instead of {@code <block>.moe.experts.<i>.*}
     * ({@link UNetLayout#averagedStateShapes}).
     */
    public UNet(UNetConfig config, Philox rng, boolean averagedMoe) {
        this.config = config;
        this.averagedMoe = averagedMoe;
        UNetLayout layout = UNetLayout.of(config);
        int mc = config.modelChannels(), emb = config.timeEmbedChannels();
        timeEmbed = registerModule("time_embed", new Sequential(new Linear(mc, emb, rng), new SiLU(), new Linear(emb, emb, rng)));
        inputBlocks = registerModule("input_blocks", new ModuleList<>());
        for (UNetLayout.Block b : layout.inputBlocks()) inputBlocks.add(new UNetBlock(b, config, rng, averagedMoe));
        middleBlock = registerModule("middle_block", new UNetBlock(layout.middleBlock(), config, rng, averagedMoe));
        outputBlocks = registerModule("output_blocks", new ModuleList<>());
        for (UNetLayout.Block b : layout.outputBlocks()) outputBlocks.add(new UNetBlock(b, config, rng, averagedMoe));
        Conv2d last = new Conv2d(mc, config.outChannels(), 3, 1, 1, rng);
        ResBlock.zero(last);
        out = registerModule("out", new Sequential(new GroupNorm(UNetConfig.NORM_GROUPS, mc), new SiLU(), last));
        for (UNetBlock b : blocks()) if (b.moe() != null) moeLayers.add(b.moe());
    }

    /** Builds the UNet a checkpoint's metadata describes and loads its weights (strictly). */
    public static UNet fromFile(Path path) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(path)) {
            UNet unet = new UNet(UNetConfig.fromMetadata(f.metadata()), new Philox(0));
            unet.loadFrom(f, true);
            return unet;
        }
    }

    /** Writes the state dict with the configuration in the metadata. */
    public void save(Path path) throws IOException { save(path, config.toMetadata()); }

    public UNetConfig config() { return config; }

    /** Whether the Space-MoE layers are in their averaged form (an inference-only UNet). */
    public boolean averagedMoe() { return averagedMoe; }

    public List<UNetBlock> inputBlocks() { return inputBlocks.asList(); }

    public UNetBlock middleBlock() { return middleBlock; }

    public List<UNetBlock> outputBlocks() { return outputBlocks.asList(); }

    /** Every block in forward order. */
    public List<UNetBlock> blocks() {
        List<UNetBlock> all = new ArrayList<>(inputBlocks.asList());
        all.add(middleBlock);
        all.addAll(outputBlocks.asList());
        return all;
    }

    /** The Space-MoE layers in forward order (empty without experts). */
    public List<SpaceMoE> spaceMoeLayers() { return Collections.unmodifiableList(moeLayers); }

    // ---- Space-MoE controls ---------------------------------------------------------------------

    /** One stream routes the tokens of every Space-MoE layer, drawn in forward order. */
    public void setRoutingRng(Philox rng) { for (SpaceMoE m : moeLayers) m.setRoutingRng(rng); }

    public void setInference(SpaceMoE.Inference mode) { for (SpaceMoE m : moeLayers) m.setInference(mode); }

    /** Weight sharing (paper Eq. 5) in every Space-MoE layer; call after each optimiser step. */
    public void shareExpertWeights(double gamma) { for (SpaceMoE m : moeLayers) m.shareWeights(gamma); }

    /** Recomputes every layer's averaged FFN now. */
    public void averageExperts() { for (SpaceMoE m : moeLayers) m.averageExperts(); }

    /** Marks every averaged FFN out of date (after writing expert weights behind the layers' backs, e.g. an EMA swap). */
    public void forgetAveragedWeights() { for (SpaceMoE m : moeLayers) m.forgetAveragedWeights(); }

    /** Switching modes also forgets the averaged FFNs, so sampling right after an EMA swap and eval() sees the swapped weights. */
    @Override public Module train(boolean on) {
        super.train(on);
        forgetAveragedWeights();
        return this;
    }

    // ---- forward --------------------------------------------------------------------------------

    /** The predicted noise for {@code x} (B, in, H, W) at one timestep for the whole batch. */
    public Tensor forward(Tensor x, int timestep) {
        int[] t = new int[x.rank() > 0 ? x.dim(0) : 0];
        Arrays.fill(t, timestep);
        return forward(x, t);
    }

    /**
     * The output (B, out, H, W) for {@code x} (B, in, H, W) and one timestep per batch element.
     * H and W must be multiples of 2^(levels - 1).
     */
    public Tensor forward(Tensor x, int[] timesteps) {
        int f = config.downsampleFactor();
        if (x.rank() != 4 || x.dim(1) != config.inChannels()) {
            throw new IllegalArgumentException("UNet '" + config.name() + "' needs (B, " + config.inChannels() + ", H, W) input, got " + x.shape());
        }
        if (x.dim(2) % f != 0 || x.dim(3) % f != 0 || x.dim(2) == 0 || x.dim(3) == 0) {
            throw new IllegalArgumentException("UNet '" + config.name() + "' halves the input " + (config.levels() - 1) + " times: height and width must be positive multiples of "
                    + f + ", got " + x.dim(2) + "x" + x.dim(3) + "; pad or crop the latent");
        }
        if (timesteps.length != x.dim(0)) {
            throw new IllegalArgumentException(timesteps.length + " timesteps for a batch of " + x.dim(0) + " (input " + x.shape() + "); give one per batch element");
        }
        boolean free = !GradMode.isEnabled();   // without a graph, each block's temporaries can go at once
        Tensor emb = inScope(free, () -> timeEmbed.forward(timestepEmbedding(timesteps, config.modelChannels(), x.device())));
        Deque<Tensor> skips = new ArrayDeque<>();
        Tensor h = x;
        for (UNetBlock block : inputBlocks) {
            h = run(block, h, null, emb, free);
            skips.push(h);
        }
        h = run(middleBlock, h, null, emb, free);
        for (UNetBlock block : outputBlocks) {
            Tensor skip = skips.pop();
            Tensor next = run(block, h, skip, emb, free);
            if (free) {   // neither is x: x only feeds input_blocks.0
                h.release();
                skip.release();
            }
            h = next;
        }
        Tensor last = h;
        Tensor y = inScope(free, () -> out.forward(last));
        if (free) {
            h.release();
            emb.release();
        }
        return y;
    }

    private static Tensor run(UNetBlock block, Tensor h, Tensor skip, Tensor emb, boolean free) {
        return inScope(free, () -> block.forward(skip == null ? h : Tensor.cat(1, h, skip), emb));
    }

    /** Runs {@code f}; with {@code free}, in a scope that frees everything but the result (only safe without a graph). */
    private static Tensor inScope(boolean free, Supplier<Tensor> f) {
        if (!free) return f.get();
        try (Scope s = Scope.open()) {
            return s.keep(f.get());
        }
    }

    /**
     * LDM's sinusoidal timestep embedding (B, dim): with half = dim / 2 and
     * freq_i = exp(-ln(10000) i / half), the row of t is [cos(t freq_0..half-1), sin(t freq_0..half-1)]
     * (a zero column more when dim is odd). Computed in float32 as PyTorch does, on the host (it is tiny).
     */
    public static Tensor timestepEmbedding(int[] timesteps, int dim, Device device) {
        if (dim <= 0) throw new IllegalArgumentException("embedding width must be positive, got " + dim);
        int half = dim / 2;
        float[] freqs = new float[half];
        float c = (float) -Math.log(10000.0);
        for (int i = 0; i < half; i++) freqs[i] = (float) Math.exp((c * i) / half);
        float[] e = new float[timesteps.length * dim];
        for (int b = 0; b < timesteps.length; b++) {
            for (int i = 0; i < half; i++) {
                float arg = timesteps[b] * freqs[i];
                e[b * dim + i] = (float) Math.cos(arg);
                e[b * dim + half + i] = (float) Math.sin(arg);
            }
        }
        return Tensor.of(device, e, timesteps.length, dim);
    }

    @Override public String toString() { return "UNet(" + config + ", " + parameterCount() + " parameters)"; }
}
