package dev.moesr.tensor.autograd;

import dev.moesr.tensor.GradMode;
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

    public static void backward(Tensor root, Tensor gradOut) {
        if (!root.needsGrad()) {
            throw new IllegalStateException("backward() on a tensor that does not require grad: no input was marked requiresGrad(), or it was computed under GradMode.off()");
        }
        if (gradOut != null && !gradOut.shape().equals(root.shape())) {
            throw new IllegalArgumentException("gradient of shape " + gradOut.shape() + " for a tensor of shape " + root.shape());
        }
        List<Tensor> order = topologicalOrder(root);
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        try (GradMode ignored = GradMode.off()) {
            grads.put(root, gradOut != null ? gradOut : Tensor.onesLike(root));
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Tensor g = grads.remove(t);
                if (g == null) continue;
                Node node = t.gradFn();
                if (node == null) {
                    t.accumulateGrad(g);
                    continue;
                }
                Tensor[] inputs = node.inputs();
                Tensor[] gs = node.backward(g);
                for (int j = 0; j < inputs.length; j++) {
                    Tensor in = inputs[j];
                    if (in == null || !in.needsGrad() || gs[j] == null) continue;
                    if (!gs[j].shape().equals(in.shape())) {
                        throw new IllegalStateException("backward of " + node.name() + " gave a gradient of shape " + gs[j].shape()
                                + " for input " + j + " of shape " + in.shape());
                    }
                    Tensor acc = grads.get(in);
                    grads.put(in, acc == null ? gs[j] : acc.add(gs[j]));
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
