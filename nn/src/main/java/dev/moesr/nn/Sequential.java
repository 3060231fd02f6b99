package dev.moesr.nn;

import dev.moesr.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Layers applied in order; children are named 0, 1, 2, ... as in PyTorch's nn.Sequential. */
public class Sequential extends Layer {
    private final List<Layer> layers = new ArrayList<>();

    public Sequential(Layer... layers) {
        for (Layer l : layers) add(l);
    }

    /** Appends a layer (named by its index); returns this. */
    public final Sequential add(Layer layer) {
        registerModule(Integer.toString(layers.size()), layer);
        layers.add(layer);
        return this;
    }

    public final Layer get(int i) { return layers.get(i); }

    public final int size() { return layers.size(); }

    public final List<Layer> layers() { return Collections.unmodifiableList(layers); }

    @Override public Tensor forward(Tensor x) {
        for (Layer l : layers) x = l.forward(x);
        return x;
    }
}
