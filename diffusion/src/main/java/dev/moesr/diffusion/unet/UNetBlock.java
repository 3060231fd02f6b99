package dev.moesr.diffusion.unet;

import dev.moesr.nn.Layer;
import dev.moesr.nn.Module;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.Downsample;
import dev.moesr.nn.layers.Upsample;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One of LDM's TimestepEmbedSequential blocks: layers named 0, 1, 2, ... run in order, ResBlocks
 * with the timestep embedding. A Space-MoE layer is the child {@code moe} and runs right after
 * the attention block, so every LDM name stays as it is.
 */
public final class UNetBlock extends Module {
    private final List<Module> order = new ArrayList<>();   // forward order
    private final SpaceMoE moe;

    UNetBlock(UNetLayout.Block plan, UNetConfig cfg, Philox rng, boolean averagedMoe) {
        SpaceMoE found = null;
        List<UNetLayout.Part> parts = plan.parts();
        for (int i = 0; i < parts.size(); i++) {
            UNetLayout.Part p = parts.get(i);
            String name = Integer.toString(i);
            if (p instanceof UNetLayout.InputConv c) {
                order.add(registerModule(name, new Conv2d(c.in(), c.out(), 3, 1, 1, rng)));
            } else if (p instanceof UNetLayout.Res r) {
                order.add(registerModule(name, new ResBlock(r.in(), r.out(), cfg.timeEmbedChannels(), cfg.dropout(), rng)));
            } else if (p instanceof UNetLayout.Attention a) {
                order.add(registerModule(name, new AttentionBlock(a.channels(), a.heads(), rng)));
                if (a.experts() > 0) {
                    found = registerModule("moe", new SpaceMoE(a.channels(), a.experts(), rng, averagedMoe));
                    order.add(found);
                }
            } else if (p instanceof UNetLayout.Down d) {
                order.add(registerModule(name, Downsample.conv(d.channels(), d.channels(), rng)));
            } else if (p instanceof UNetLayout.Up u) {
                order.add(registerModule(name, new Upsample(u.channels(), u.channels(), rng)));
            }
        }
        this.moe = found;
    }

    /** The Space-MoE layer of this block, or null. */
    public SpaceMoE moe() { return moe; }

    /** The layers in forward order. */
    public List<Module> layers() { return Collections.unmodifiableList(order); }

    public Tensor forward(Tensor x, Tensor emb) {
        for (Module m : order) x = m instanceof ResBlock r ? r.forward(x, emb) : ((Layer) m).forward(x);
        return x;
    }
}
