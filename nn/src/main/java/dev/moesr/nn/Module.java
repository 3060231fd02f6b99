package dev.moesr.nn;

import dev.moesr.nn.io.SafeTensors;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.nn.io.TensorSource;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A node of a model tree: named parameters, buffers and child modules, with PyTorch-style
 * dotted names ({@code input_blocks.1.0.in_layers.0.weight}) so state dicts line up with
 * checkpoints of the reference code.
 *
 * <p>Subclasses register their state in the constructor with {@link #registerParameter},
 * {@link #registerBuffer} and {@link #registerModule}; the registration order is the
 * state-dict order (a module's own parameters, then its buffers, then its children, as in PyTorch).
 *
 * <p>Memory: the tensors of a module belong to the scope that was open while it was built.
 * Build long-lived models outside scopes and free them with {@link #release()}, or move them
 * out of a scope with {@link #keepIn}.
 */
public abstract class Module {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Buffer> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    // ---- memory of a forward pass --------------------------------------------------------------

    /**
     * Runs one block of a forward pass in a scope that frees the block's temporaries as soon as
     * it returns, so a deep network holds only the activations it still needs. That holds for
     * inference and for frozen parts of a trained model (stage 2's encoder and the decoder before
     * the fusion layers): when the block's result needs no gradient, no graph runs through it.
     * When it does, the temporaries move to the enclosing scope: backward needs them.
     */
    protected static Tensor block(Supplier<Tensor> f) {
        try (Scope s = Scope.open()) {
            Tensor out = f.get();
            if (out.needsGrad()) s.keepEverything();
            return s.keep(out);
        }
    }

    /**
     * Frees an intermediate activation that the rest of an inference pass no longer needs;
     * does nothing with a graph (backward may need it) or when it is the pass's own input.
     */
    protected static void done(Tensor intermediate, Tensor input) {
        if (!GradMode.isEnabled() && intermediate != input) intermediate.release();
    }

    // ---- registration ---------------------------------------------------------------------

    /** Registers {@code tensor} (a live leaf) as the trainable parameter {@code name}. */
    protected final Parameter registerParameter(String name, Tensor tensor) {
        checkNewName(name);
        Parameter p = new Parameter(tensor);
        parameters.put(name, p);
        return p;
    }

    /** Registers {@code tensor} as a persistent buffer (saved in the state dict). */
    protected final Buffer registerBuffer(String name, Tensor tensor) { return registerBuffer(name, tensor, true); }

    protected final Buffer registerBuffer(String name, Tensor tensor, boolean persistent) {
        checkNewName(name);
        Buffer b = new Buffer(tensor, persistent);
        buffers.put(name, b);
        return b;
    }

    /**
     * Registers {@code module} as the child {@code name}; an existing child of that name is
     * replaced in place (its position in the state-dict order is kept). Returns the module.
     */
    protected final <M extends Module> M registerModule(String name, M module) {
        if (module == null) throw new IllegalArgumentException("child module '" + name + "' is null");
        if (module == this) throw new IllegalArgumentException("a module cannot be its own child ('" + name + "')");
        checkName(name);
        if (parameters.containsKey(name) || buffers.containsKey(name)) {
            throw new IllegalArgumentException("'" + name + "' is already a parameter or buffer of " + getClass().getSimpleName());
        }
        children.put(name, module);
        return module;
    }

    private void checkNewName(String name) {
        checkName(name);
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("'" + name + "' is already registered in " + getClass().getSimpleName());
        }
    }

    private static void checkName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("module state names must be non-empty and contain no '.', got '" + name + "'");
        }
    }

    // ---- tree -------------------------------------------------------------------------------

    /** The direct children, by name, in registration order. */
    public final Map<String, Module> children() { return Collections.unmodifiableMap(children); }

    /** This module ("") and every descendant, by dotted name, depth first. */
    public final Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        Set<Module> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        collectModules("", out, seen);
        return out;
    }

    private void collectModules(String prefix, Map<String, Module> out, Set<Module> seen) {
        if (!seen.add(this)) return;
        out.put(prefix, this);
        for (var e : children.entrySet()) e.getValue().collectModules(join(prefix, e.getKey()), out, seen);
    }

    /** Every parameter of the tree by dotted name; a parameter shared by two modules is listed once, under its first name. */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (var m : namedModules().entrySet()) {
            for (var p : m.getValue().parameters.entrySet()) {
                if (seen.add(p.getValue())) out.put(join(m.getKey(), p.getKey()), p.getValue());
            }
        }
        return out;
    }

    public final List<Parameter> parameters() { return new ArrayList<>(namedParameters().values()); }

    /** The parameters that currently require grad (those an optimiser should update). */
    public final Map<String, Parameter> namedTrainableParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (var e : namedParameters().entrySet()) if (e.getValue().isTrainable()) out.put(e.getKey(), e.getValue());
        return out;
    }

    /** Every buffer of the tree by dotted name (persistent or not). */
    public final Map<String, Buffer> namedBuffers() {
        Map<String, Buffer> out = new LinkedHashMap<>();
        Set<Buffer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (var m : namedModules().entrySet()) {
            for (var b : m.getValue().buffers.entrySet()) {
                if (seen.add(b.getValue())) out.put(join(m.getKey(), b.getKey()), b.getValue());
            }
        }
        return out;
    }

    /** The parameter named {@code name} of this module itself (not a descendant), or null. */
    public final Parameter ownParameter(String name) { return parameters.get(name); }

    public final Buffer ownBuffer(String name) { return buffers.get(name); }

    private static String join(String prefix, String name) { return prefix.isEmpty() ? name : prefix + "." + name; }

    // ---- modes and gradients ------------------------------------------------------------------

    /** Sets training mode on this module and all descendants; returns this. */
    public Module train(boolean on) {
        for (Module m : namedModules().values()) m.training = on;
        return this;
    }

    public final Module train() { return train(true); }

    public final Module eval() { return train(false); }

    public final boolean isTraining() { return training; }

    /** Forgets the gradients of every parameter. */
    public final void zeroGrad() {
        for (Parameter p : parameters()) p.zeroGrad();
    }

    /** Freezes (false) or unfreezes (true) every parameter of the tree. */
    public final void setTrainable(boolean trainable) {
        for (Parameter p : parameters()) p.setTrainable(trainable);
    }

    /** Number of parameter elements (shared parameters counted once). */
    public final long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) n += p.numel();
        return n;
    }

    public final long trainableParameterCount() {
        long n = 0;
        for (Parameter p : parameters()) if (p.isTrainable()) n += p.numel();
        return n;
    }

    // ---- state dict -------------------------------------------------------------------------

    /**
     * The parameters and persistent buffers by dotted name, in PyTorch's order. The map holds
     * the live tensors themselves (no copies): do not release them.
     */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectState("", out, Collections.newSetFromMap(new IdentityHashMap<>()));
        return out;
    }

    private void collectState(String prefix, Map<String, Tensor> out, Set<Module> seen) {
        if (!seen.add(this)) return;
        for (var p : parameters.entrySet()) out.put(join(prefix, p.getKey()), p.getValue().tensor());
        for (var b : buffers.entrySet()) if (b.getValue().isPersistent()) out.put(join(prefix, b.getKey()), b.getValue().tensor());
        for (var c : children.entrySet()) c.getValue().collectState(join(prefix, c.getKey()), out, seen);
    }

    /** Keys the model has that the checkpoint lacks, and keys of the checkpoint the model does not have. */
    public record LoadResult(List<String> missingKeys, List<String> unexpectedKeys) {}

    /**
     * Copies {@code state} into this model's parameters and buffers, in place. A shape mismatch
     * is always an error; with {@code strict}, so are missing and unexpected keys. Everything is
     * checked before anything is written, so a failed load leaves the model unchanged.
     */
    public final LoadResult loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        for (var e : state.entrySet()) shapes.put(e.getKey(), e.getValue().shape());
        Map<String, Tensor> own = stateDict();
        LoadResult result = checkLoad(own, shapes, strict, "state dict");
        for (var e : own.entrySet()) {
            Tensor src = state.get(e.getKey());
            if (src != null) InPlace.assign(e.getValue(), src);
        }
        stateChanged();
        return result;
    }

    private static LoadResult checkLoad(Map<String, Tensor> own, Map<String, Shape> incoming, boolean strict, String source) {
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (var e : own.entrySet()) {
            Shape theirs = incoming.get(e.getKey());
            if (theirs == null) {
                missing.add(e.getKey());
                if (strict) problems.add("missing key '" + e.getKey() + "': the model expects shape " + e.getValue().shape() + ", the " + source + " has no such entry");
            } else if (!theirs.equals(e.getValue().shape())) {
                problems.add("shape mismatch for '" + e.getKey() + "': the " + source + " has " + theirs + ", the model expects " + e.getValue().shape());
            }
        }
        for (var e : incoming.entrySet()) {
            if (!own.containsKey(e.getKey())) {
                unexpected.add(e.getKey());
                if (strict) problems.add("unexpected key '" + e.getKey() + "' of shape " + e.getValue() + ": the model has no parameter or buffer of that name");
            }
        }
        if (!problems.isEmpty()) {
            StringBuilder sb = new StringBuilder("cannot load the " + source + " (" + problems.size() + " problem" + (problems.size() == 1 ? "" : "s")
                    + "; nothing was changed):");
            int shown = Math.min(problems.size(), 20);
            for (int i = 0; i < shown; i++) sb.append("\n  ").append(problems.get(i));
            if (problems.size() > shown) sb.append("\n  ... and ").append(problems.size() - shown).append(" more");
            if (strict && problems.stream().allMatch(p -> !p.startsWith("shape"))) sb.append("\n(load with strict = false to ignore missing and unexpected keys)");
            throw new IllegalArgumentException(sb.toString());
        }
        return new LoadResult(List.copyOf(missing), List.copyOf(unexpected));
    }

    /** Called after new values were loaded into the state, for modules that cache anything derived from it. */
    protected void afterLoad() {}

    /**
     * Tells every module of the tree that its weights were rewritten from outside (a load, an
     * EMA swap), so caches derived from them are dropped.
     */
    public final void stateChanged() {
        for (Module m : namedModules().values()) m.afterLoad();
    }

    // ---- files ------------------------------------------------------------------------------

    /** Writes the state dict as a safetensors file (atomically), with {@code metadata} in its header. */
    public final void save(Path path, Map<String, String> metadata) throws IOException {
        SafeTensors.write(path, stateDict(), metadata);
    }

    /** As {@link #save}, every tensor stored as F16 (half the bytes) when {@code half}. */
    public final void save(Path path, Map<String, String> metadata, boolean half) throws IOException {
        SafeTensors.write(path, stateDict(), metadata, half);
    }

    /** Loads a safetensors checkpoint strictly; returns its metadata. */
    public final Map<String, String> load(Path path) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(path)) {
            loadFrom(f, true);
            return f.metadata();
        }
    }

    /**
     * Loads from an open safetensors file or PyTorch checkpoint one tensor at a time (so a large
     * checkpoint never has to fit in memory twice); keys and shapes are checked against its
     * header before any data is read. Each tensor is read straight onto its parameter's device.
     */
    public final LoadResult loadFrom(TensorSource file, boolean strict) throws IOException {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        for (String name : file.names()) shapes.put(name, Shape.of(file.shape(name)));
        Map<String, Tensor> own = stateDict();
        LoadResult result = checkLoad(own, shapes, strict, "checkpoint " + file.path());
        for (var e : own.entrySet()) {
            if (!shapes.containsKey(e.getKey())) continue;
            Tensor t = file.read(e.getKey(), e.getValue().device());
            try {
                InPlace.assign(e.getValue(), t);
            } finally {
                t.release();
            }
        }
        stateChanged();
        return result;
    }

    // ---- devices and memory -----------------------------------------------------------------------------

    /**
     * Moves every parameter and buffer to {@code device} and returns this. The Parameter and
     * Buffer objects stay the same but hold new tensors (gradients are dropped): create
     * optimisers and EMA after moving the model.
     */
    public final Module to(Device device) {
        Device target = Backends.resolve(device);
        for (Parameter p : parameters()) p.moveTo(target);
        for (Buffer b : namedBuffers().values()) b.moveTo(target);
        return this;
    }

    /** Frees every parameter and buffer tensor of the tree (and their gradients). The module is unusable afterwards. */
    public final void release() {
        for (Parameter p : parameters()) p.tensor().release();
        for (Buffer b : namedBuffers().values()) b.tensor().release();
    }

    /** Moves every state tensor of the tree out of {@code scope} (to its enclosing scope, or to the caller). */
    public final void keepIn(Scope scope) {
        for (Parameter p : parameters()) scope.keep(p.tensor());
        for (Buffer b : namedBuffers().values()) scope.keep(b.tensor());
    }

    @Override public String toString() {
        return getClass().getSimpleName() + "(" + parameterCount() + " parameters)";
    }
}
