package dev.moesr.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/** An indexed list of modules of any kind; children are named 0, 1, 2, ... as in PyTorch's nn.ModuleList. */
public class ModuleList<M extends Module> extends Module implements Iterable<M> {
    private final List<M> modules = new ArrayList<>();

    @SafeVarargs
    public ModuleList(M... modules) {
        for (M m : modules) add(m);
    }

    public ModuleList(List<? extends M> modules) {
        for (M m : modules) add(m);
    }

    public final ModuleList<M> add(M module) {
        registerModule(Integer.toString(modules.size()), module);
        modules.add(module);
        return this;
    }

    /** Replaces the module at {@code i} (its name and state-dict position stay the same). */
    public final void set(int i, M module) {
        if (i < 0 || i >= modules.size()) throw new IndexOutOfBoundsException("index " + i + " outside a list of " + modules.size() + " modules");
        registerModule(Integer.toString(i), module);
        modules.set(i, module);
    }

    public final M get(int i) { return modules.get(i); }

    public final int size() { return modules.size(); }

    public final List<M> asList() { return Collections.unmodifiableList(modules); }

    @Override public Iterator<M> iterator() { return asList().iterator(); }
}
