package dev.moesr.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Deterministic release of tensor memory. Every tensor created while a scope is open on this
 * thread belongs to the innermost one; closing the scope releases all of them except those
 * passed to {@link #keep}, which move to the enclosing scope (or, outside any scope, to the
 * caller, who then owns them until {@link Tensor#release}).
 *
 * <pre>{@code
 * try (Scope s = Scope.open()) {
 *     Tensor y = x.matmul(w).silu();
 *     return s.keep(y.sum());
 * }
 * }</pre>
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final Set<Tensor> owned = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Thread thread = Thread.currentThread();
    private boolean closed;

    private Scope() {}

    public static Scope open() {
        Scope s = new Scope();
        STACK.get().push(s);
        return s;
    }

    /** The innermost open scope of this thread, or null. */
    static Scope current() {
        return STACK.get().peek();
    }

    void adopt(Tensor t) {
        owned.add(t);
    }

    void disown(Tensor t) {
        owned.remove(t);
    }

    /** Moves {@code t} out of this scope into the enclosing one (or to the caller); returns it. */
    public Tensor keep(Tensor t) {
        if (owned.remove(t)) {
            Scope parent = parentOf(this);
            t.setOwner(parent);
            if (parent != null) parent.adopt(t);
        }
        return t;
    }

    /** Keeps several tensors; see {@link #keep(Tensor)}. */
    public void keepAll(Iterable<Tensor> ts) {
        for (Tensor t : ts) keep(t);
    }

    /** Moves every tensor of this scope to the enclosing one (or to the caller): nothing is released on close. */
    public void keepEverything() {
        keepAll(new ArrayList<>(owned));
    }

    /** Whether {@code t} belongs to this scope (it will be released on close unless kept). */
    public boolean owns(Tensor t) { return owned.contains(t); }

    /** Number of tensors this scope will release on close. */
    public int size() { return owned.size(); }

    @Override
    public void close() {
        if (closed) return;
        if (Thread.currentThread() != thread) throw new IllegalStateException("a scope must be closed on the thread that opened it");
        ArrayDeque<Scope> stack = STACK.get();
        if (stack.peek() != this) throw new IllegalStateException("scopes must be closed innermost first");
        stack.pop();
        closed = true;
        List<Tensor> all = new ArrayList<>(owned);
        owned.clear();
        for (Tensor t : all) {
            t.setOwner(null);
            t.release();
        }
    }

    private static Scope parentOf(Scope s) {
        boolean found = false;
        for (Scope x : STACK.get()) {   // iterates innermost first
            if (found) return x;
            if (x == s) found = true;
        }
        return null;
    }
}
