package dev.moesr.nn.layers;

import dev.moesr.nn.Module;
import dev.moesr.tensor.Philox;

/**
 * A layer that draws random numbers in training (Dropout, DropPath). Trainers give every such
 * layer a stream keyed by (seed, step) before each forward pass ({@link #reseedAll}), so the
 * masks of a step do not depend on how many steps this process has run and a resumed run
 * continues exactly.
 */
public interface Stochastic {
    /** Draws from {@code rng} from now on. */
    void setRng(Philox rng);

    /**
     * Sets {@code rng} on every stochastic layer of {@code root}'s tree (root included), in the
     * tree's registration order; they draw one after another from the one stream. Returns how
     * many layers were set.
     */
    static int reseedAll(Module root, Philox rng) {
        if (root == null) throw new IllegalArgumentException("reseedAll needs a module, got null");
        if (rng == null) throw new IllegalArgumentException("reseedAll needs a random stream, got null");
        int count = 0;
        for (Module m : root.namedModules().values()) {
            if (m instanceof Stochastic s) {
                s.setRng(rng);
                count++;
            }
        }
        return count;
    }
}
