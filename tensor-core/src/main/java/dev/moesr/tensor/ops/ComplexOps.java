package dev.moesr.tensor.ops;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.BinaryOp;
import dev.moesr.tensor.backend.Storage;
import dev.moesr.tensor.backend.UnaryOp;

import java.util.Arrays;

/**
 * Differentiable complex arithmetic on C64 tensors (interleaved (re, im) float pairs).
 * Gradients of complex tensors hold (dL/dRe, dL/dIm) as a complex tensor, so the gradient of
 * a holomorphic product out = a * b is g * conj(b).
 */
public final class ComplexOps {
    private ComplexOps() {}

    /** A complex tensor from real and imaginary parts of the same shape. */
    public static Tensor complex(Tensor real, Tensor imag) {
        requireReal(real, "complex(real, imag)");
        requireReal(imag, "complex(real, imag)");
        Elementwise.sameBackend(real, imag);
        if (!real.shape().equals(imag.shape())) {
            throw new IllegalArgumentException("complex(real, imag) needs parts of one shape, got " + real.shape() + " and " + imag.shape() + "; expand() one first");
        }
        Tensor out = Tensor.empty(real.backend(), DType.C64, real.dims());
        copyPart(real, out, 0);
        copyPart(imag, out, 1);
        return out.recordedAs("complex", g -> new Tensor[] {
                real.needsGrad() ? real(g) : null,
                imag.needsGrad() ? imag(g) : null}, real, imag);
    }

    /** The real parts, as a real tensor of the same shape. */
    public static Tensor real(Tensor z) {
        requireComplex(z, "real()");
        Tensor out = Tensor.empty(z.backend(), DType.F32, z.dims());
        extractPart(z, out, 0);
        return out.recordedAs("real", g -> new Tensor[] {complex(g, Tensor.zerosLike(g))}, z);
    }

    /** The imaginary parts, as a real tensor of the same shape. */
    public static Tensor imag(Tensor z) {
        requireComplex(z, "imag()");
        Tensor out = Tensor.empty(z.backend(), DType.F32, z.dims());
        extractPart(z, out, 1);
        return out.recordedAs("imag", g -> new Tensor[] {complex(Tensor.zerosLike(g), g)}, z);
    }

    public static Tensor conj(Tensor z) {
        requireComplex(z, "conj()");
        Tensor out = Tensor.empty(z.backend(), DType.C64, z.dims());
        int[] pairs = {(int) z.numel(), 2};
        Tensor signs = Tensor.of(z.device(), new float[] {1f, -1f}, 1, 2);
        try {
            z.backend().binary(BinaryOp.MUL, z.storage(), pairs, signs.storage(), new int[] {1, 2}, out.storage(), pairs);
        } finally {
            signs.release();
        }
        return out.recordedAs("conj", g -> new Tensor[] {conj(g)}, z);
    }

    /** a + b with broadcasting; a real operand counts as complex with zero imaginary part. */
    public static Tensor add(Tensor a, Tensor b) { return addOrSub(BinaryOp.ADD, a, b); }

    public static Tensor sub(Tensor a, Tensor b) { return addOrSub(BinaryOp.SUB, a, b); }

    private static Tensor addOrSub(BinaryOp op, Tensor a, Tensor b) {
        if (!a.isComplex()) return addOrSub(op, complex(a, Tensor.zerosLike(a)), b);
        if (!b.isComplex()) return addOrSub(op, a, complex(b, Tensor.zerosLike(b)));
        Backend be = Elementwise.sameBackend(a, b);
        Shape os = Shape.broadcast(a.shape(), b.shape());
        int r = os.rank();
        Tensor out = Tensor.empty(be, DType.C64, os.dims());
        be.binary(op, a.storage(), withPair(a.shape().padLeft(r), 2), b.storage(), withPair(b.shape().padLeft(r), 2), out.storage(), withPair(os.dims(), 2));
        String name = op == BinaryOp.ADD ? "complex add" : "complex sub";
        return out.recordedAs(name, g -> new Tensor[] {
                a.needsGrad() ? sumTo(g, a.shape()) : null,
                b.needsGrad() ? sumTo(op == BinaryOp.ADD ? g : scale(g, -1f), b.shape()) : null}, a, b);
    }

    /**
     * a * b with broadcasting: complex times complex, or complex times real (each pair scaled by
     * the real value, which is cheaper than promoting it).
     */
    public static Tensor mul(Tensor a, Tensor b) {
        if (!a.isComplex() && !b.isComplex()) {
            throw new IllegalArgumentException("complex mul needs a complex operand, got two real tensors " + a.shape() + " and " + b.shape());
        }
        if (!a.isComplex()) return mul(b, a);
        Elementwise.sameBackend(a, b);
        if (!b.isComplex()) return mulByReal(a, b);
        Tensor out = rawMul(a, b, false);
        return out.recordedAs("complex mul", g -> new Tensor[] {
                a.needsGrad() ? sumTo(rawMul(g, b, true), a.shape()) : null,
                b.needsGrad() ? sumTo(rawMul(g, a, true), b.shape()) : null}, a, b);
    }

    private static Tensor mulByReal(Tensor z, Tensor s) {
        Shape os = Shape.broadcast(z.shape(), s.shape());
        int r = os.rank();
        Tensor out = Tensor.empty(z.backend(), DType.C64, os.dims());
        z.backend().binary(BinaryOp.MUL, z.storage(), withPair(z.shape().padLeft(r), 2), s.storage(), withPair(s.shape().padLeft(r), 1),
                out.storage(), withPair(os.dims(), 2));
        return out.recordedAs("complex mul by real", g -> new Tensor[] {
                z.needsGrad() ? sumTo(mulByReal(g, s), z.shape()) : null,
                // d out / d s = z, so dL/ds = Re(g) Re(z) + Im(g) Im(z) = Re(g conj(z))
                s.needsGrad() ? Reductions.sumTo(real(rawMul(g, z, true)), s.shape()) : null}, z, s);
    }

    /** z * s for a real number s. */
    public static Tensor scale(Tensor z, float s) {
        requireComplex(z, "scale()");
        Tensor out = Tensor.empty(z.backend(), DType.C64, z.dims());
        z.backend().unary(UnaryOp.MUL_SCALAR, z.storage(), out.storage(), s, 0);
        return out.recordedAs("complex scale", g -> new Tensor[] {scale(g, s)}, z);
    }

    /** |z| as a real tensor; its gradient is g z / |z|, and 0 where z = 0. */
    public static Tensor abs(Tensor z) {
        requireComplex(z, "abs()");
        Tensor out = Tensor.empty(z.backend(), DType.F32, z.dims());
        z.backend().complexAbs(z.storage(), out.storage());
        return out.recordedAs("complex abs", g -> {
            Tensor perModulus = Tensor.where(out.gt(Tensor.zeros(out.device())), g.div(out), Tensor.zeros(out.device()));
            return new Tensor[] {mulByReal(z, perModulus)};
        }, z);
    }

    // ---- helpers ----------------------------------------------------------------------------

    /** a * b (or a * conj(b)) with broadcasting, not recorded. */
    private static Tensor rawMul(Tensor a, Tensor b, boolean conjugateB) {
        Shape os = Shape.broadcast(a.shape(), b.shape());
        int r = os.rank();
        Tensor out = Tensor.empty(a.backend(), DType.C64, os.dims());
        a.backend().complexMul(a.storage(), a.shape().padLeft(r), b.storage(), b.shape().padLeft(r), out.storage(), os.dims(), conjugateB);
        return out;
    }

    /** Sums a broadcast complex gradient back to {@code target}, summing real and imaginary parts separately. */
    private static Tensor sumTo(Tensor g, Shape target) {
        if (g.shape().equals(target)) return g;
        Tensor pairs = Tensor.wrap(g.storage().view(0, g.storage().length()), Shape.of(withPair(g.dims(), 2)), DType.F32);
        try {
            Tensor summed = Reductions.sumTo(pairs, Shape.of(withPair(target.dims(), 2)));
            Tensor result = Tensor.wrap(summed.storage().view(0, summed.storage().length()), target, DType.C64);
            summed.release();
            return result;
        } finally {
            pairs.release();
        }
    }

    /** Writes the real tensor {@code part} into slot {@code slot} (0 real, 1 imaginary) of each pair of {@code out}. */
    private static void copyPart(Tensor part, Tensor out, int slot) {
        if (out.numel() == 0) return;
        long[] elementStrides = out.shape().strides();
        long[] pairStrides = new long[elementStrides.length];
        for (int i = 0; i < pairStrides.length; i++) pairStrides[i] = 2 * elementStrides[i];
        Storage dst = ShapeOps.window(out.storage(), slot);
        try {
            out.backend().copy(part.storage(), elementStrides, dst, pairStrides, part.dims());
        } finally {
            if (dst != out.storage()) dst.release();
        }
    }

    /** Reads slot {@code slot} of each pair of {@code z} into the real tensor {@code out}. */
    private static void extractPart(Tensor z, Tensor out, int slot) {
        if (z.numel() == 0) return;
        long[] elementStrides = z.shape().strides();
        long[] pairStrides = new long[elementStrides.length];
        for (int i = 0; i < pairStrides.length; i++) pairStrides[i] = 2 * elementStrides[i];
        Storage src = ShapeOps.window(z.storage(), slot);
        try {
            z.backend().copy(src, pairStrides, out.storage(), elementStrides, z.dims());
        } finally {
            if (src != z.storage()) src.release();
        }
    }

    private static int[] withPair(int[] shape, int last) {
        int[] s = Arrays.copyOf(shape, shape.length + 1);
        s[shape.length] = last;
        return s;
    }

    private static void requireComplex(Tensor t, String op) {
        if (!t.isComplex()) throw new IllegalArgumentException(op + " takes a complex tensor; got a real one of shape " + t.shape() + " (make one with Tensor.complex(re, im))");
    }

    private static void requireReal(Tensor t, String op) {
        if (t.isComplex()) throw new IllegalArgumentException(op + " takes real tensors; got a complex one of shape " + t.shape());
    }
}
