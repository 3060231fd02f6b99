package dev.moesr.tensor;

import dev.moesr.tensor.autograd.Autograd;
import dev.moesr.tensor.autograd.Node;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.Backends;
import dev.moesr.tensor.backend.ProfilingBackend;
import dev.moesr.tensor.backend.BinaryOp;
import dev.moesr.tensor.backend.Storage;
import dev.moesr.tensor.backend.UnaryOp;
import dev.moesr.tensor.ops.ComplexOps;
import dev.moesr.tensor.ops.Conv;
import dev.moesr.tensor.ops.Elementwise;
import dev.moesr.tensor.ops.Indexing;
import dev.moesr.tensor.ops.Linalg;
import dev.moesr.tensor.ops.Norms;
import dev.moesr.tensor.ops.Pooling;
import dev.moesr.tensor.ops.Reductions;
import dev.moesr.tensor.ops.ShapeOps;
import dev.moesr.tensor.ops.Spectral;

import java.util.Arrays;

/**
 * A contiguous, row-major array of float32 (or complex64) values on one device, with
 * reverse-mode autograd. Operations return new tensors; only reshape and leading-dimension
 * slices share storage. Memory is released by the {@link Scope} that was open when the tensor
 * was made, or by {@link #release()}.
 */
public final class Tensor {
    private final Shape shape;
    private final DType dtype;
    private final Storage storage;
    private boolean released;
    private boolean requiresGrad;
    private Tensor grad;
    private Node gradFn;
    private Scope owner;

    private Tensor(Storage storage, Shape shape, DType dtype) {
        if (storage.length() != shape.numel() * dtype.floats) {
            throw new IllegalArgumentException("storage of " + storage.length() + " floats does not hold " + dtype + shape);
        }
        this.storage = storage;
        this.shape = shape;
        this.dtype = dtype;
        this.owner = Scope.current();
        if (owner != null) owner.adopt(this);
    }

    // ---- construction (for ops and backends) -------------------------------------------------

    /** Wraps a storage this tensor will own (one reference is taken over). For op implementations. */
    public static Tensor wrap(Storage storage, Shape shape, DType dtype) {
        return new Tensor(storage, shape, dtype);
    }

    /** A fresh uninitialised tensor on {@code backend}. For op implementations. */
    public static Tensor empty(Backend backend, DType dtype, int... shape) {
        Shape s = Shape.of(shape);
        return new Tensor(backend.allocate(s.numel() * dtype.floats), s, dtype);
    }

    // ---- creation -------------------------------------------------------------------------

    public static Tensor zeros(int... shape) { return full(Device.CPU, 0f, shape); }

    public static Tensor zeros(Device device, int... shape) { return full(device, 0f, shape); }

    public static Tensor ones(int... shape) { return full(Device.CPU, 1f, shape); }

    public static Tensor ones(Device device, int... shape) { return full(device, 1f, shape); }

    public static Tensor full(float value, int... shape) { return full(Device.CPU, value, shape); }

    public static Tensor full(Device device, float value, int... shape) {
        Tensor t = empty(Backends.get(device), DType.F32, shape);
        t.backend().fill(t.storage, value);
        return t;
    }

    public static Tensor scalar(float value) { return full(Device.CPU, value); }

    /** 0, 1, ..., n-1. */
    public static Tensor arange(int n) { return arange(Device.CPU, 0, n, 1); }

    /** start, start+step, ... below end (above end for a negative step). */
    public static Tensor arange(Device device, float start, float end, float step) {
        if (step == 0) throw new IllegalArgumentException("arange step must not be 0");
        int n = (int) Math.max(0, Math.ceil((end - start) / step));
        Tensor t = empty(Backends.get(device), DType.F32, n);
        t.backend().arange(t.storage, start, step);
        return t;
    }

    /** A CPU tensor holding a copy of {@code data} with the given shape. */
    public static Tensor of(float[] data, int... shape) { return of(Device.CPU, data, shape); }

    public static Tensor of(Device device, float[] data, int... shape) {
        Shape s = Shape.of(shape);
        if (s.numel() != data.length) {
            throw new IllegalArgumentException(data.length + " values do not fill shape " + s + " (" + s.numel() + " elements)");
        }
        return new Tensor(Backends.get(device).upload(data.clone()), s, DType.F32);
    }

    /** A complex tensor from interleaved (real, imaginary) pairs. */
    public static Tensor ofComplex(float[] interleaved, int... shape) {
        Shape s = Shape.of(shape);
        if (s.numel() * 2 != interleaved.length) {
            throw new IllegalArgumentException(interleaved.length + " floats are not " + s.numel() + " complex values of shape " + s);
        }
        return new Tensor(Backends.cpu().upload(interleaved.clone()), s, DType.C64);
    }

    /** Uniform values in [0, 1) from {@code rng}; the same seed and state give the same values on every device. */
    public static Tensor rand(Philox rng, int... shape) { return rand(rng, Device.CPU, shape); }

    public static Tensor rand(Philox rng, Device device, int... shape) {
        Tensor t = empty(Backends.get(device), DType.F32, shape);
        t.backend().randomUniform(t.storage, rng.seed(), rng.reserve(t.numel()));
        return t;
    }

    /** Standard normal values from {@code rng}; reproducible across devices like {@link #rand}. */
    public static Tensor randn(Philox rng, int... shape) { return randn(rng, Device.CPU, shape); }

    public static Tensor randn(Philox rng, Device device, int... shape) {
        Tensor t = empty(Backends.get(device), DType.F32, shape);
        t.backend().randomNormal(t.storage, rng.seed(), rng.reserve(t.numel()));
        return t;
    }

    public static Tensor zerosLike(Tensor t) {
        Tensor z = empty(t.backend(), t.dtype, t.shape.dims());
        z.backend().fill(z.storage, 0f);
        return z;
    }

    public static Tensor onesLike(Tensor t) { return full(t.device(), 1f, t.shape.dims()); }

    // ---- properties -----------------------------------------------------------------------

    public Shape shape() { return shape; }

    public int[] dims() { return shape.dims(); }

    /** Size of dimension {@code i} (negative counts from the end). */
    public int dim(int i) { return shape.dim(i); }

    public int rank() { return shape.rank(); }

    public long numel() { return shape.numel(); }

    public DType dtype() { return dtype; }

    public boolean isComplex() { return dtype == DType.C64; }

    public Backend backend() {
        // profiling wraps each backend (ProfilingBackend); storages know only the unwrapped one
        return ProfilingBackend.enabled() ? Backends.get(storage.backend().device()) : storage.backend();
    }

    public Device device() { return backend().device(); }

    /** The storage, for op implementations; throws if the tensor was released. */
    public Storage storage() {
        if (released) throw new IllegalStateException("tensor " + dtype + shape + " was used after it was released (its scope closed); keep() it to use it longer");
        return storage;
    }

    // ---- autograd -------------------------------------------------------------------------

    /** Whether gradients flow to this tensor (a marked leaf, or computed from one with recording on). */
    public boolean needsGrad() { return requiresGrad; }

    /** Marks a leaf as needing a gradient; returns this. */
    public Tensor requiresGrad(boolean value) {
        if (gradFn != null && !value) throw new IllegalStateException("only leaf tensors can stop requiring grad; use detach()");
        requiresGrad = value;
        return this;
    }

    public Tensor requiresGrad() { return requiresGrad(true); }

    /** The accumulated gradient of a leaf, or null. */
    public Tensor grad() { return grad; }

    public Node gradFn() { return gradFn; }

    public boolean isLeaf() { return gradFn == null; }

    /** Releases and forgets the accumulated gradient. */
    public void zeroGrad() {
        if (grad != null) grad.release();
        grad = null;
    }

    /** Adds {@code g} to this leaf's gradient; the leaf owns its gradient, not any scope. For the autograd engine. */
    public void accumulateGrad(Tensor g) {
        Tensor sum;
        try (GradMode ignored = GradMode.off()) {
            // a copy even for the first one: backward may hand the same tensor to several inputs
            sum = grad == null ? g.copy() : grad.add(g);
        }
        sum.detachFromScope();
        if (grad != null) grad.release();
        grad = sum;
    }

    /** Records that this tensor was computed by {@code name} from {@code inputs}, when any of them needs a gradient. For op implementations. */
    public Tensor recordedAs(String name, Node.Backward backward, Tensor... inputs) {
        if (!GradMode.isEnabled()) return this;
        for (Tensor in : inputs) {
            if (in != null && in.requiresGrad) {
                gradFn = new Node(name, inputs, backward);
                requiresGrad = true;
                return this;
            }
        }
        return this;
    }

    /** Back-propagates from this scalar. */
    public void backward() {
        if (numel() != 1) throw new IllegalStateException("backward() without a gradient needs a single-element tensor, got shape " + shape);
        Autograd.backward(this, null);
    }

    /** Back-propagates {@code gradOut} (same shape as this tensor). */
    public void backward(Tensor gradOut) { Autograd.backward(this, gradOut); }

    /** The same values, sharing storage, cut off from the graph. */
    public Tensor detach() {
        storage.retain();
        return new Tensor(storage, shape, dtype);
    }

    // ---- memory ---------------------------------------------------------------------------

    /** Frees this tensor's hold on its memory (and its gradient) now; later use throws. Idempotent. */
    public void release() {
        if (released) return;
        released = true;
        if (owner != null) owner.disown(this);
        owner = null;
        gradFn = null;
        zeroGrad();
        storage.release();
    }

    public boolean isReleased() { return released; }

    void setOwner(Scope s) { owner = s; }

    private void detachFromScope() {
        if (owner != null) owner.disown(this);
        owner = null;
    }

    // ---- host access and devices --------------------------------------------------------------

    /** The values on the host (interleaved pairs for complex). */
    public float[] toFloatArray() {
        long n = numel() * dtype.floats;
        if (n > Integer.MAX_VALUE) throw new IllegalStateException("tensor too large for one Java array: " + shape);
        return backend().download(storage(), 0, (int) n);
    }

    /** The single value of a one-element real tensor. */
    public float item() {
        if (numel() != 1 || isComplex()) throw new IllegalStateException("item() needs a one-element real tensor, got " + dtype + shape);
        return toFloatArray()[0];
    }

    /** A copy on {@code device} (this tensor itself when it is already there). Differentiable. */
    public Tensor to(Device device) {
        Backend target = Backends.get(device);
        if (target == backend()) return this;
        Tensor out = new Tensor(target.upload(toFloatArray()), shape, dtype);
        Device from = device();
        return out.recordedAs("to", g -> new Tensor[] {g.to(from)}, this);
    }

    public Tensor cpu() { return to(Device.CPU); }

    /** A fresh copy with its own storage. Differentiable. */
    public Tensor copy() {
        Tensor out = empty(backend(), dtype, shape.dims());
        long[] st = shape.strides();
        long[] fs = floatStrides(st);
        backend().copy(storage(), fs, out.storage, fs, copyShape());
        return out.recordedAs("copy", g -> new Tensor[] {g}, this);
    }

    private long[] floatStrides(long[] st) {
        if (dtype == DType.F32) return st;
        long[] s = Arrays.copyOf(st, st.length + 1);
        for (int i = 0; i < st.length; i++) s[i] = st[i] * 2;
        s[st.length] = 1;
        return s;
    }

    private int[] copyShape() {
        if (dtype == DType.F32) return shape.dims();
        int[] d = Arrays.copyOf(shape.dims(), shape.rank() + 1);
        d[shape.rank()] = 2;
        return d;
    }

    // ---- elementwise --------------------------------------------------------------------------

    public Tensor add(Tensor o) { return isComplex() || o.isComplex() ? ComplexOps.add(this, o) : Elementwise.binary(BinaryOp.ADD, this, o); }

    public Tensor sub(Tensor o) { return isComplex() || o.isComplex() ? ComplexOps.sub(this, o) : Elementwise.binary(BinaryOp.SUB, this, o); }

    public Tensor mul(Tensor o) { return isComplex() || o.isComplex() ? ComplexOps.mul(this, o) : Elementwise.binary(BinaryOp.MUL, this, o); }

    public Tensor div(Tensor o) { return Elementwise.binary(BinaryOp.DIV, this, o); }

    public Tensor pow(Tensor o) { return Elementwise.binary(BinaryOp.POW, this, o); }

    public Tensor maximum(Tensor o) { return Elementwise.binary(BinaryOp.MAX, this, o); }

    public Tensor minimum(Tensor o) { return Elementwise.binary(BinaryOp.MIN, this, o); }

    /** 1 where equal, else 0 (not differentiable); likewise gt, lt, ge, le. */
    public Tensor eq(Tensor o) { return Elementwise.binary(BinaryOp.EQ, this, o); }

    public Tensor gt(Tensor o) { return Elementwise.binary(BinaryOp.GT, this, o); }

    public Tensor lt(Tensor o) { return Elementwise.binary(BinaryOp.LT, this, o); }

    public Tensor ge(Tensor o) { return Elementwise.binary(BinaryOp.GE, this, o); }

    public Tensor le(Tensor o) { return Elementwise.binary(BinaryOp.LE, this, o); }

    public Tensor add(float v) { return Elementwise.unary(UnaryOp.ADD_SCALAR, this, v, 0); }

    public Tensor sub(float v) { return Elementwise.unary(UnaryOp.ADD_SCALAR, this, -v, 0); }

    public Tensor mul(float v) { return isComplex() ? ComplexOps.scale(this, v) : Elementwise.unary(UnaryOp.MUL_SCALAR, this, v, 0); }

    public Tensor div(float v) { return mul(1f / v); }

    public Tensor pow(float e) { return Elementwise.unary(UnaryOp.POW_SCALAR, this, e, 0); }

    public Tensor neg() { return Elementwise.unary(UnaryOp.NEG, this, 0, 0); }

    public Tensor exp() { return Elementwise.unary(UnaryOp.EXP, this, 0, 0); }

    public Tensor log() { return Elementwise.unary(UnaryOp.LOG, this, 0, 0); }

    public Tensor sqrt() { return Elementwise.unary(UnaryOp.SQRT, this, 0, 0); }

    public Tensor rsqrt() { return Elementwise.unary(UnaryOp.RSQRT, this, 0, 0); }

    /** |x|, or the modulus of a complex tensor (a real tensor). */
    public Tensor abs() { return isComplex() ? ComplexOps.abs(this) : Elementwise.unary(UnaryOp.ABS, this, 0, 0); }

    public Tensor square() { return Elementwise.unary(UnaryOp.SQUARE, this, 0, 0); }

    public Tensor reciprocal() { return Elementwise.unary(UnaryOp.RECIPROCAL, this, 0, 0); }

    public Tensor tanh() { return Elementwise.unary(UnaryOp.TANH, this, 0, 0); }

    public Tensor sigmoid() { return Elementwise.unary(UnaryOp.SIGMOID, this, 0, 0); }

    public Tensor silu() { return Elementwise.unary(UnaryOp.SILU, this, 0, 0); }

    /** GELU, exact (erf) form. */
    public Tensor gelu() { return Elementwise.unary(UnaryOp.GELU_ERF, this, 0, 0); }

    /** GELU, tanh approximation. */
    public Tensor geluTanh() { return Elementwise.unary(UnaryOp.GELU_TANH, this, 0, 0); }

    public Tensor relu() { return Elementwise.unary(UnaryOp.RELU, this, 0, 0); }

    public Tensor leakyRelu(float negativeSlope) { return Elementwise.unary(UnaryOp.LEAKY_RELU, this, negativeSlope, 0); }

    /** softplus with beta 1 and threshold 20, as PyTorch's default. */
    public Tensor softplus() { return softplus(1f, 20f); }

    public Tensor softplus(float beta, float threshold) { return Elementwise.unary(UnaryOp.SOFTPLUS, this, beta, threshold); }

    public Tensor clamp(float min, float max) { return Elementwise.unary(UnaryOp.CLAMP, this, min, max); }

    public Tensor softshrink(float lambda) { return Elementwise.unary(UnaryOp.SOFTSHRINK, this, lambda, 0); }

    /** cond != 0 ? a : b, broadcast. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) { return Elementwise.where(cond, a, b); }

    // ---- reductions -------------------------------------------------------------------------

    public Tensor sum() { return Reductions.sum(this, null, false); }

    public Tensor sum(int dim, boolean keepDim) { return Reductions.sum(this, new int[] {dim}, keepDim); }

    public Tensor sum(int[] dims, boolean keepDim) { return Reductions.sum(this, dims, keepDim); }

    public Tensor mean() { return Reductions.mean(this, null, false); }

    public Tensor mean(int dim, boolean keepDim) { return Reductions.mean(this, new int[] {dim}, keepDim); }

    public Tensor mean(int[] dims, boolean keepDim) { return Reductions.mean(this, dims, keepDim); }

    /** Variance with Bessel's correction over all elements. */
    public Tensor var() { return Reductions.var(this, null, false, 1); }

    /** Variance over {@code dims}; correction 1 is the unbiased estimate, 0 the population variance. */
    public Tensor var(int[] dims, boolean keepDim, int correction) { return Reductions.var(this, dims, keepDim, correction); }

    public Tensor max() { return Reductions.max(this, null, false); }

    public Tensor max(int dim, boolean keepDim) { return Reductions.max(this, new int[] {dim}, keepDim); }

    public Tensor min() { return Reductions.min(this, null, false); }

    public Tensor min(int dim, boolean keepDim) { return Reductions.min(this, new int[] {dim}, keepDim); }

    /** Index of the largest value along {@code dim} (as floats, exact below 2^24). */
    public Tensor argmax(int dim, boolean keepDim) { return Reductions.argmax(this, dim, keepDim); }

    public Tensor argmin(int dim, boolean keepDim) { return Reductions.argmin(this, dim, keepDim); }

    public Tensor softmax(int dim) { return Reductions.softmax(this, dim, false); }

    public Tensor logSoftmax(int dim) { return Reductions.softmax(this, dim, true); }

    // ---- shape ----------------------------------------------------------------------------

    /** The same values in a new shape (shares storage); one dimension may be -1. */
    public Tensor reshape(int... newShape) { return ShapeOps.reshape(this, newShape); }

    public Tensor flatten() { return reshape(-1); }

    /** Merges dimensions start..end (inclusive) into one. */
    public Tensor flatten(int start, int end) { return ShapeOps.flatten(this, start, end); }

    public Tensor unsqueeze(int dim) { return ShapeOps.unsqueeze(this, dim); }

    public Tensor squeeze(int dim) { return ShapeOps.squeeze(this, dim); }

    public Tensor permute(int... order) { return ShapeOps.permute(this, order); }

    public Tensor transpose(int a, int b) { return ShapeOps.transpose(this, a, b); }

    /** Elements start..end-1 along {@code dim} (negative indices count from the end). */
    public Tensor slice(int dim, int start, int end) { return ShapeOps.slice(this, dim, start, end); }

    /** {@code parts} equal slices along {@code dim}. */
    public Tensor[] chunk(int parts, int dim) { return ShapeOps.chunk(this, parts, dim); }

    public static Tensor cat(int dim, Tensor... ts) { return ShapeOps.cat(dim, ts); }

    public static Tensor stack(int dim, Tensor... ts) { return ShapeOps.stack(dim, ts); }

    /**
     * Constant padding, PyTorch order: pairs (before, after) from the last dimension backwards,
     * e.g. {left, right, top, bottom} for an NCHW image.
     */
    public Tensor pad(int[] pads, float value) { return ShapeOps.pad(this, pads, value); }

    /** Broadcasts size-1 dimensions to {@code newShape} (a copy; -1 keeps a size). */
    public Tensor expand(int... newShape) { return ShapeOps.expand(this, newShape); }

    /** Nearest-neighbour upsampling of an NCHW tensor by an integer factor. */
    public Tensor upsampleNearest(int scale) { return ShapeOps.upsampleNearest(this, scale); }

    /** [N, C*r*r, H, W] to [N, C, H*r, W*r]. */
    public Tensor pixelShuffle(int r) { return ShapeOps.pixelShuffle(this, r); }

    /** The inverse of {@link #pixelShuffle}. */
    public Tensor pixelUnshuffle(int r) { return ShapeOps.pixelUnshuffle(this, r); }

    // ---- linear algebra and convolution ---------------------------------------------------------

    /** Matrix product with NumPy semantics: 1-D operands, batched operands with broadcast batch dimensions. */
    public Tensor matmul(Tensor o) { return Linalg.matmul(this, o); }

    /** this @ o^T over the last two dimensions (batch dimensions broadcast), without a transposed copy of o. */
    public Tensor matmulTransposed(Tensor o) { return Linalg.matmulTransposed(this, o); }

    /** x W^T over the last dimension, for a weight [out, in] (PyTorch's Linear layout); no transposed copy is made. */
    public Tensor linear(Tensor weight) { return Linalg.linear(this, weight); }

    /** 2-D convolution of NCHW input with an (out, in/groups, kh, kw) weight; bias may be null. */
    public Tensor conv2d(Tensor weight, Tensor bias, int stride, int padding) {
        return Conv.conv2d(this, weight, bias, stride, stride, padding, padding, 1, 1, 1);
    }

    public Tensor conv2d(Tensor weight, Tensor bias, int stride, int padding, int dilation, int groups) {
        return Conv.conv2d(this, weight, bias, stride, stride, padding, padding, dilation, dilation, groups);
    }

    public Tensor conv2d(Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups) {
        return Conv.conv2d(this, weight, bias, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], groups);
    }

    public Tensor maxPool2d(int kernel, int stride, int padding) { return Pooling.maxPool2d(this, kernel, stride, padding); }

    public Tensor avgPool2d(int kernel, int stride, int padding) { return Pooling.avgPool2d(this, kernel, stride, padding); }

    // ---- normalisation ----------------------------------------------------------------------

    /** GroupNorm over NC... input; weight and bias of shape [C] may be null. */
    public Tensor groupNorm(int groups, Tensor weight, Tensor bias, float eps) { return Norms.groupNorm(this, groups, weight, bias, eps); }

    /** {@code groupNorm(...).silu()} in one fused kernel (the pattern of the diffusion ResBlocks). */
    public Tensor groupNormSilu(int groups, Tensor weight, Tensor bias, float eps) { return Norms.groupNormSilu(this, groups, weight, bias, eps); }

    /** LayerNorm over the trailing dimensions given by {@code normalizedShape}; weight and bias may be null. */
    public Tensor layerNorm(int[] normalizedShape, Tensor weight, Tensor bias, float eps) { return Norms.layerNorm(this, normalizedShape, weight, bias, eps); }

    /**
     * BatchNorm over N and the spatial dims of an NC... tensor. In training it normalises with
     * the batch statistics and updates the running ones in place (unbiased variance, PyTorch's
     * momentum rule); in evaluation it uses the running statistics.
     */
    public Tensor batchNorm(Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias, boolean training, float momentum, float eps) {
        return Norms.batchNorm(this, runningMean, runningVar, weight, bias, training, momentum, eps);
    }

    // ---- indexing -------------------------------------------------------------------------

    /** Rows of {@code dim} picked by a 1-D tensor of indices. */
    public Tensor indexSelect(int dim, Tensor index) { return Indexing.indexSelect(this, dim, index); }

    /** torch.gather along {@code dim}. */
    public Tensor gather(int dim, Tensor index) { return Indexing.gather(this, dim, index); }

    /** Rows of {@code weight} [num, dim] for each index of {@code indices}: shape indices.shape + [dim]. */
    public static Tensor embedding(Tensor weight, Tensor indices) { return Indexing.embedding(weight, indices); }

    // ---- complex and FFT ------------------------------------------------------------------------

    public static Tensor complex(Tensor real, Tensor imag) { return ComplexOps.complex(real, imag); }

    public Tensor real() { return ComplexOps.real(this); }

    public Tensor imag() { return ComplexOps.imag(this); }

    public Tensor conj() { return ComplexOps.conj(this); }

    /** Orthonormal FFT over the last two dimensions (complex in, complex out). */
    public Tensor fft2() { return Spectral.fft2(this, false); }

    public Tensor ifft2() { return Spectral.fft2(this, true); }

    /** Orthonormal real FFT over the last two dimensions: [..., h, w] to complex [..., h, w/2+1]. */
    public Tensor rfft2() { return Spectral.rfft2(this); }

    /** Inverse of {@link #rfft2} for an output width {@code w}. */
    public Tensor irfft2(int w) { return Spectral.irfft2(this, w); }

    @Override public String toString() {
        if (released) return "Tensor(" + dtype + shape + ", released)";
        StringBuilder sb = new StringBuilder("Tensor(").append(dtype).append(shape).append(" on ").append(device());
        if (numel() * dtype.floats <= 16) sb.append(' ').append(Arrays.toString(toFloatArray()));
        return sb.append(requiresGrad ? ", requiresGrad)" : ")").toString();
    }
}
