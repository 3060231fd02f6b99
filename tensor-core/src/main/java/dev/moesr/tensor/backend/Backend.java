package dev.moesr.tensor.backend;

import dev.moesr.tensor.Device;

/**
 * The kernels one device provides. Everything here works on contiguous row-major storages of
 * float32 slots (complex values are interleaved pairs) and knows nothing of autograd: the
 * {@code ops} package builds differentiable tensor operations out of these calls, so a new
 * device implements this interface and every tensor operation, forward and backward, runs on it.
 *
 * <p>Shapes are passed as int arrays; where an operation broadcasts, its input shapes are
 * left-padded with ones to the rank of the output shape before the call. Outputs are fresh
 * storages allocated by the caller (implementations must not assume they are zeroed), with one
 * exception: {@link #binary} may be given {@code out == a} when {@code a} has the output's
 * shape, so every output element is computed from the inputs at its own index (in place).
 */
public interface Backend {

    Device device();

    // ---- memory ---------------------------------------------------------------------------

    /** A new storage of {@code floats} slots, contents undefined. */
    Storage allocate(long floats);

    Storage upload(float[] host);

    /** Copies {@code count} floats starting at {@code offset} of {@code src} to the host. */
    float[] download(Storage src, long offset, int count);

    /** Bytes currently held by live storages of this backend, and the peak since start. */
    long bytesInUse();

    long peakBytes();

    /** Starts a new peak from what is in use now (to measure one phase, such as a training step). */
    void resetPeakBytes();

    /** Waits for queued work (a no-op on synchronous backends). */
    default void synchronize() {}

    // ---- creation -------------------------------------------------------------------------

    void fill(Storage out, float value);

    /** out[i] = start + i * step. */
    void arange(Storage out, float start, float step);

    /**
     * Philox4x32-10 uniform floats in [0, 1): element i takes word (i mod 4) of the block at
     * counter {@code counter + i / 4} under key {@code seed}. See {@code dev.moesr.tensor.Philox}.
     */
    void randomUniform(Storage out, long seed, long counter);

    /** Standard normal floats from the same stream (Box-Muller on pairs of words, in portable double arithmetic). */
    void randomNormal(Storage out, long seed, long counter);

    // ---- data movement ----------------------------------------------------------------------

    /**
     * Strided n-d copy: for every index vector i within {@code shape},
     * {@code dst[sum i_k*dstStrides_k] = src[sum i_k*srcStrides_k]} (strides in floats; a source
     * stride of 0 repeats, as for expand). Covers permute, slice, cat, pad, expand, real/imag.
     */
    void copy(Storage src, long[] srcStrides, Storage dst, long[] dstStrides, int[] shape);

    // ---- elementwise ------------------------------------------------------------------------

    void unary(UnaryOp op, Storage x, Storage out, float a, float b);

    /** gradIn = gradOut * f'(x), for the same op and parameters. */
    void unaryBackward(UnaryOp op, Storage x, Storage gradOut, Storage gradIn, float a, float b);

    void binary(BinaryOp op, Storage a, int[] aShape, Storage b, int[] bShape, Storage out, int[] outShape);

    /** out = cond != 0 ? a : b, all three broadcast to {@code outShape}. */
    void where(Storage cond, int[] condShape, Storage a, int[] aShape, Storage b, int[] bShape, Storage out, int[] outShape);

    // ---- reductions -------------------------------------------------------------------------

    /** Reduces the dimensions marked in {@code reduced}; the output has size 1 there. */
    void reduce(ReduceOp op, Storage x, int[] shape, boolean[] reduced, Storage out);

    /** Row-wise softmax (or log-softmax) of a rows x cols matrix. */
    void softmax(Storage x, Storage out, int rows, int cols, boolean log);

    /** Gradient of {@link #softmax} given its output y. */
    void softmaxBackward(Storage y, Storage gradOut, Storage gradIn, int rows, int cols, boolean log);

    // ---- normalisation ----------------------------------------------------------------------

    /**
     * Group normalisation of x, an [n, channels, spatial] array whose channels split into
     * {@code groups} equal groups, optionally followed by SiLU. For each sample b and group k,
     * over its {@code channels / groups * spatial} elements:
     * <pre>
     *   mean[b, k] = the average of the group
     *   rstd[b, k] = 1 / sqrt(population variance of the group + eps)
     *   a          = (x - mean) * rstd * weight[c] + bias[c]       (weight 1, bias 0 when null)
     *   out        = silu ? a * sigmoid(a) : a
     * </pre>
     * The statistics are accumulated in double from values shifted by the group's first element
     * (the variance as E[d^2] - E[d]^2 of the shifted d), so a large common offset does not cancel
     * the variance; {@code mean} and {@code rstd} ([n * groups] each) are written for
     * {@link #groupNormBackward}. a is computed in float as written; SiLU is evaluated in float as
     * {@code a / (1 + exp(-a))} with a float exponential accurate to an ulp or two (so it agrees
     * with the SILU unary op, which rounds a double result once, to a few ulps). An empty group
     * gets mean 0 and rstd 1/sqrt(eps).
     */
    void groupNorm(Storage x, int n, int channels, long spatial, int groups, Storage weight, Storage bias,
                   float eps, boolean silu, Storage out, Storage mean, Storage rstd);

    /**
     * Gradients of {@link #groupNorm} from gradOut, the same x and the statistics it saved. With
     * silu the pre-activation a is recomputed from x and the statistics (not stored). With
     * xhat = (x - mean) * rstd and ga = gradOut * (silu ? silu'(a) : 1), where
     * silu'(a) = s (1 + a (1 - s)) with s = 1 / (1 + exp(-a)), in float:
     * <pre>
     *   gradBias[c]   = sum over samples and positions of ga
     *   gradWeight[c] = sum of ga * xhat
     *   gradX         = rstd * (ga * weight - mean_group(ga * weight) - xhat * mean_group(ga * weight * xhat))
     * </pre>
     * Any of gradX, gradWeight, gradBias may be null (not wanted); gradWeight and gradBias are
     * [channels], every element written. Sums are accumulated in double.
     */
    void groupNormBackward(Storage gradOut, Storage x, Storage mean, Storage rstd, Storage weight, Storage bias,
                           int n, int channels, long spatial, int groups, boolean silu,
                           Storage gradX, Storage gradWeight, Storage gradBias);

    // ---- linear algebra -------------------------------------------------------------------

    /**
     * Strided batched GEMM: C_b = alpha * op(A_b) op(B_b) + beta * C_b for b in [0, batch), with
     * op(A) m x k and op(B) k x n, row-major; a batch stride of 0 reuses one matrix.
     * When beta is 0, C is not read.
     */
    void matmul(Storage a, Storage b, Storage c, int batch, int m, int n, int k,
                boolean transA, boolean transB, long strideA, long strideB, long strideC,
                float alpha, float beta);

    void conv2d(Storage x, Storage weight, Storage out, ConvGeometry g);

    void conv2dBackwardData(Storage gradOut, Storage weight, Storage gradX, ConvGeometry g);

    void conv2dBackwardFilter(Storage x, Storage gradOut, Storage gradWeight, ConvGeometry g);

    // ---- pooling --------------------------------------------------------------------------

    /** Max pooling; {@code argmax} receives the flat input index (within one channel plane) of each maximum. */
    void maxPool2d(Storage x, Storage out, Storage argmax, PoolGeometry g);

    void maxPool2dBackward(Storage gradOut, Storage argmax, Storage gradX, PoolGeometry g);

    void avgPool2d(Storage x, Storage out, PoolGeometry g);

    void avgPool2dBackward(Storage gradOut, Storage gradX, PoolGeometry g);

    // ---- indexing -------------------------------------------------------------------------

    /** x viewed as [outer, axis, inner]: out[o, j, i] = x[o, index[j], i] for j < indexCount. */
    void indexSelect(Storage x, int outer, int axis, int inner, Storage index, int indexCount, Storage out);

    /** The adjoint of {@link #indexSelect}: gradX (zeroed here first) [o, index[j], i] += gradOut[o, j, i]. */
    void indexSelectBackward(Storage gradOut, int outer, int axis, int inner, Storage index, int indexCount, Storage gradX);

    /** torch.gather along {@code dim}: out[..., j, ...] = x[..., index[..., j, ...], ...]; index and out share {@code indexShape}. */
    void gather(Storage x, int[] xShape, int dim, Storage index, int[] indexShape, Storage out);

    /** The adjoint of {@link #gather}: gradX (zeroed here first) accumulates gradOut at the gathered places. */
    void gatherBackward(Storage gradOut, int[] indexShape, int dim, Storage index, int[] xShape, Storage gradX);

    // ---- complex and FFT ------------------------------------------------------------------

    /** Complex product with broadcasting over complex element shapes; conjugates b when asked. */
    void complexMul(Storage a, int[] aShape, Storage b, int[] bShape, Storage out, int[] outShape, boolean conjugateB);

    /** |z| of n complex values. */
    void complexAbs(Storage z, Storage out);

    /** Orthonormal 2-D complex FFT over the last two dims of [batch, h, w]; any sizes. */
    void fft2(Storage x, Storage out, int batch, int h, int w, boolean inverse);

    /** Orthonormal real-to-complex 2-D FFT: real [batch, h, w] to complex [batch, h, w/2+1]. */
    void rfft2(Storage x, Storage out, int batch, int h, int w);

    /** Orthonormal complex-to-real inverse: complex [batch, h, w/2+1] to real [batch, h, w]. */
    void irfft2(Storage x, Storage out, int batch, int h, int w);

    // ---- optimiser updates (in place, on parameter-sized storages of equal length) ---------

    /**
     * One Adam step of a parameter, in place, as one pass over its elements (not the dozen tensor
     * ops it would take composed, each a kernel launch per parameter on a GPU):
     * <pre>
     *   decoupled (AdamW): p = p * (1 - lr * weightDecay)     else (Adam): g = g + weightDecay * p
     *   m = beta1 * m + (1 - beta1) * g
     *   v = beta2 * v + (1 - beta2) * g * g
     *   p = p - lr * (m / bc1) / (sqrt(v / bc2) + eps)          bc1 = 1 - beta1^step, bc2 = 1 - beta2^step
     * </pre>
     * in float, {@code step} counting from 1.
     */
    void adamStep(Storage param, Storage grad, Storage m, Storage v, long step,
                  float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled);

    /** ema = ema + rate * (param - ema), in place, in float; rate = 1 - decay (computed by the caller in double). */
    void emaUpdate(Storage ema, Storage param, float rate);
}
