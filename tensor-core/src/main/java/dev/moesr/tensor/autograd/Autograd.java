package dev.moesr.tensor.autograd;

import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The reverse pass: walks the recorded graph from a root in reverse topological order. */
public final class Autograd {
    private Autograd() {}

    /** Accumulates d root / d leaf into the {@code grad()} of every leaf of root's graph ({@code gradOut}: d loss / d root, null for ones). */
    public static void backward(Tensor root, Tensor gradOut) {
        if (!root.needsGrad()) {
            throw new IllegalStateException("backward() on a tensor that does not require grad: no input was marked requiresGrad(), or it was computed under GradMode.off()");
        }
        if (gradOut != null && !gradOut.shape().equals(root.shape())) {
            throw new IllegalArgumentException("gradient of shape " + gradOut.shape() + " for a tensor of shape " + root.shape());
        }
        propagate(root, gradOut, topologicalOrder(root), null);
    }

    /**
     * The gradients of {@code root} with respect to {@code inputs} (tensors of its graph that need
     * a gradient), as PyTorch's {@code torch.autograd.grad}: no {@code grad()} changes, and only
     * the nodes on a path from root to an input run, so the gradient at one layer near the output
     * costs a few nodes, not a whole backward pass. The graph stays usable for a later backward.
     * An input the root does not depend on gets zeros.
     */
    public static Tensor[] grad(Tensor root, Tensor... inputs) {
        if (!root.needsGrad()) throw new IllegalStateException("grad() of a tensor that does not require grad");
        Set<Tensor> wanted = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor in : inputs) {
            if (!in.needsGrad()) throw new IllegalArgumentException("grad() with respect to a tensor that does not require grad (shape " + in.shape() + ")");
            wanted.add(in);
        }
        // keep the tensors with a wanted one at or below them: the others' nodes cannot reach an input
        List<Tensor> onPath = new ArrayList<>();
        Set<Tensor> reaches = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor t : topologicalOrder(root)) {   // every tensor after its inputs
            boolean r = wanted.contains(t);
            if (!r && t.gradFn() != null) {
                for (Tensor in : t.gradFn().inputs()) r |= in != null && reaches.contains(in);
            }
            if (r) {
                reaches.add(t);
                onPath.add(t);
            }
        }
        Map<Tensor, Tensor> found = new IdentityHashMap<>();
        for (Tensor in : inputs) found.put(in, null);
        propagate(root, null, onPath, found);
        Tensor[] out = new Tensor[inputs.length];
        try (GradMode ignored = GradMode.off()) {
            for (int i = 0; i < inputs.length; i++) {
                Tensor g = found.get(inputs[i]);
                out[i] = g != null ? g : Tensor.zerosLike(inputs[i]);
            }
        }
        return out;
    }

    /**
     * Runs the nodes of {@code order} (topological, ending with root) from root back. Without
     * {@code found}, leaves accumulate their gradients; with it, the tensors it has as keys get a
     * copy of theirs there instead and no {@code grad()} changes. Gradients only go to tensors of
     * {@code order}.
     */
    private static void propagate(Tensor root, Tensor gradOut, List<Tensor> order, Map<Tensor, Tensor> found) {
        Set<Tensor> inOrder = Collections.newSetFromMap(new IdentityHashMap<>());
        inOrder.addAll(order);
        Pending pending = new Pending();
        try (GradMode ignored = GradMode.off()) {
            if (gradOut != null) pending.add(root, gradOut);
            else pending.add(root, pending.made(Tensor.onesLike(root)));
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Tensor g = pending.take(t);
                if (g == null) continue;
                List<Tensor> done = new ArrayList<>();
                done.add(g);
                Node node = t.gradFn();
                if (found != null && found.containsKey(t)) found.put(t, g.copy());
                if (node == null) {
                    if (found == null) t.accumulateGrad(g);   // a copy: g itself can go
                } else {
                    Tensor[] inputs = node.inputs();
                    Tensor[] gs;
                    try (Scope s = Scope.open()) {   // the node's temporaries go as soon as it returns
                        gs = node.backward(g);
                        for (Tensor x : gs) {
                            if (x != null && s.owns(x)) pending.made(s.keep(x));
                        }
                    }
                    for (int j = 0; j < inputs.length; j++) {
                        Tensor in = inputs[j];
                        if (gs[j] != null) done.add(gs[j]);
                        if (in == null || !in.needsGrad() || gs[j] == null || !inOrder.contains(in)) continue;
                        if (!gs[j].shape().equals(in.shape())) {
                            throw new IllegalStateException("backward of " + node.name() + " gave a gradient of shape " + gs[j].shape()
                                    + " for input " + j + " of shape " + in.shape());
                        }
                        done.addAll(pending.add(in, gs[j]));
                    }
                }
                pending.releaseUnused(done);
            }
        }
    }

    /**
     * The gradients waiting for their tensor's turn. Those this pass made are released as soon as
     * nothing waits for them any more (PyTorch frees them by reference counting), so backward holds
     * the gradients of one frontier of the graph, not of every tensor at once. A tensor may wait
     * under several keys (a node can hand the same gradient to several inputs): they are counted.
     */
    private static final class Pending {
        private final Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        private final Map<Tensor, Integer> waits = new IdentityHashMap<>();
        private final Set<Tensor> made = Collections.newSetFromMap(new IdentityHashMap<>());

        Tensor made(Tensor t) {
            made.add(t);
            return t;
        }

        Tensor take(Tensor t) {
            Tensor g = grads.remove(t);
            if (g != null) waits.merge(g, -1, Integer::sum);
            return g;
        }

        /** Adds {@code g} to the gradient waiting for {@code t}; returns the tensor it replaced, if any. */
        List<Tensor> add(Tensor t, Tensor g) {
            Tensor acc = grads.get(t);
            Tensor next = acc == null ? g : made(acc.add(g));
            grads.put(t, next);
            waits.merge(next, 1, Integer::sum);
            if (acc == null) return List.of();
            waits.merge(acc, -1, Integer::sum);
            return List.of(acc);
        }

        /** Releases those of {@code candidates} this pass made and nothing waits for. */
        void releaseUnused(List<Tensor> candidates) {
            for (Tensor c : candidates) {
                if (waits.getOrDefault(c, 0) <= 0 && made.remove(c)) {
                    waits.remove(c);
                    c.release();
                }
            }
        }
    }

    /** Tensors reachable from root through recorded nodes, each after all of its inputs. */
    static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        // iterative post-order DFS: deep graphs (long samplers, big UNets) must not overflow the stack
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (Integer) frame[1];
            Tensor[] inputs = t.gradFn() == null ? new Tensor[0] : t.gradFn().inputs();
            if (next < inputs.length) {
                frame[1] = next + 1;
                Tensor in = inputs[next];
                if (in != null && in.needsGrad() && visited.add(in)) stack.push(new Object[] {in, 0});
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order;
    }
}
