package dev.moesr.tensor.ops;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.BinaryOp;
import dev.moesr.tensor.backend.UnaryOp;

/** Differentiable elementwise operations. */
public final class Elementwise {
    private Elementwise() {}

    public static Tensor unary(UnaryOp op, Tensor x, float a, float b) {
        requireReal(x, op.name());
        Tensor out = Tensor.empty(x.backend(), DType.F32, x.dims());
        x.backend().unary(op, x.storage(), out.storage(), a, b);
        return out.recordedAs(op.name().toLowerCase(java.util.Locale.ROOT), g -> {
            Tensor gi = Tensor.empty(x.backend(), DType.F32, x.dims());
            x.backend().unaryBackward(op, x.storage(), g.storage(), gi.storage(), a, b);
            return new Tensor[] {gi};
        }, x);
    }

    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        requireReal(a, op.name());
        requireReal(b, op.name());
        Backend be = sameBackend(a, b);
        Shape os = Shape.broadcast(a.shape(), b.shape());
        Tensor out = Tensor.empty(be, DType.F32, os.dims());
        be.binary(op, a.storage(), a.shape().padLeft(os.rank()), b.storage(), b.shape().padLeft(os.rank()), out.storage(), os.dims());
        return switch (op) {
            case ADD -> out.recordedAs("add", g -> new Tensor[] {sumTo(g, a), sumTo(g, b)}, a, b);
            case SUB -> out.recordedAs("sub", g -> new Tensor[] {sumTo(g, a), b.needsGrad() ? sumTo(g.neg(), b) : null}, a, b);
            case MUL -> out.recordedAs("mul", g -> new Tensor[] {
                    a.needsGrad() ? sumTo(g.mul(b), a) : null,
                    b.needsGrad() ? sumTo(g.mul(a), b) : null}, a, b);
            case DIV -> out.recordedAs("div", g -> new Tensor[] {
                    a.needsGrad() ? sumTo(g.div(b), a) : null,
                    b.needsGrad() ? sumTo(g.mul(out).div(b).neg(), b) : null}, a, b);
            case POW -> out.recordedAs("pow", g -> new Tensor[] {
                    a.needsGrad() ? sumTo(g.mul(b).mul(a.pow(b.sub(1f))), a) : null,
                    b.needsGrad() ? sumTo(g.mul(out).mul(a.log()), b) : null}, a, b);
            case MAX, MIN -> out.recordedAs(op == BinaryOp.MAX ? "maximum" : "minimum", g -> {
                // the winner takes the gradient; ties split it evenly, as PyTorch does
                Tensor wa = (op == BinaryOp.MAX ? a.gt(b) : a.lt(b)).add(a.eq(b).mul(0.5f));
                return new Tensor[] {
                        a.needsGrad() ? sumTo(g.mul(wa), a) : null,
                        b.needsGrad() ? sumTo(g.mul(wa.neg().add(1f)), b) : null};
            }, a, b);
            case EQ, GT, LT, GE, LE -> out;   // piecewise constant: no gradient
        };
    }

    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        requireReal(a, "where");
        requireReal(b, "where");
        Backend be = sameBackend(a, b);
        sameBackend(cond, a);
        Shape os = Shape.broadcast(Shape.broadcast(cond.shape(), a.shape()), b.shape());
        Tensor out = Tensor.empty(be, DType.F32, os.dims());
        int r = os.rank();
        be.where(cond.storage(), cond.shape().padLeft(r), a.storage(), a.shape().padLeft(r), b.storage(), b.shape().padLeft(r), out.storage(), os.dims());
        return out.recordedAs("where", g -> {
            Tensor zero = Tensor.zeros(g.device());
            return new Tensor[] {null,
                    a.needsGrad() ? sumTo(where(cond, g, zero), a) : null,
                    b.needsGrad() ? sumTo(where(cond, zero, g), b) : null};
        }, cond, a, b);
    }

    /** Sums a broadcast gradient back to the shape of {@code like}. */
    public static Tensor sumTo(Tensor g, Tensor like) {
        return Reductions.sumTo(g, like.shape());
    }

    static Backend sameBackend(Tensor a, Tensor b) {
        if (a.backend() != b.backend()) {
            throw new IllegalArgumentException("operands on different devices: " + a.device() + " and " + b.device() + "; move one with .to(device)");
        }
        return a.backend();
    }

    static void requireReal(Tensor t, String op) {
        if (t.isComplex()) throw new IllegalArgumentException(op.toLowerCase(java.util.Locale.ROOT) + " takes real tensors; got a complex one of shape " + t.shape() + " (use real(), imag() or abs())");
    }
}
