package dev.moesr.tensor.autograd;

import dev.moesr.tensor.Tensor;

/**
 * One recorded operation: the inputs it read and how to turn the gradient of its output into
 * gradients of those inputs. The backward function runs with gradient recording off and
 * returns one gradient per input (null where an input needs none), each of its input's shape.
 */
public final class Node {
    @FunctionalInterface
    public interface Backward {
        Tensor[] apply(Tensor gradOut);
    }

    private final String name;
    private final Tensor[] inputs;
    private final Backward backward;

    public Node(String name, Tensor[] inputs, Backward backward) {
        this.name = name;
        this.inputs = inputs;
        this.backward = backward;
    }

    public String name() { return name; }

    public Tensor[] inputs() { return inputs; }

    public Tensor[] backward(Tensor gradOut) { return backward.apply(gradOut); }
}
