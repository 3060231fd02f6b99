package dev.moesr.cudakernels;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.BinaryOp;
import dev.moesr.tensor.backend.ConvGeometry;
import dev.moesr.tensor.backend.PoolGeometry;
import dev.moesr.tensor.backend.ReduceOp;
import dev.moesr.tensor.backend.Storage;
import dev.moesr.tensor.backend.UnaryOp;
import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.moesr.cudakernels.CudaException.check;
import static org.bytedeco.cuda.global.cudart.CUDA_ERROR_NOT_FOUND;
import static org.bytedeco.cuda.global.cudart.CUDA_ERROR_OUT_OF_MEMORY;
import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;
import static org.bytedeco.cuda.global.cudart.CU_STREAM_NON_BLOCKING;
import static org.bytedeco.cuda.global.cudart.cuCtxSetCurrent;
import static org.bytedeco.cuda.global.cudart.cuDeviceGet;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetAttribute;
import static org.bytedeco.cuda.global.cudart.cuDevicePrimaryCtxRetain;
import static org.bytedeco.cuda.global.cudart.cuInit;
import static org.bytedeco.cuda.global.cudart.cuLaunchKernel;
import static org.bytedeco.cuda.global.cudart.cuMemAlloc;
import static org.bytedeco.cuda.global.cudart.cuMemFree;
import static org.bytedeco.cuda.global.cudart.cuMemcpyDtoDAsync;
import static org.bytedeco.cuda.global.cudart.cuMemcpyDtoHAsync;
import static org.bytedeco.cuda.global.cudart.cuMemcpyHtoDAsync;
import static org.bytedeco.cuda.global.cudart.cuMemsetD32Async;
import static org.bytedeco.cuda.global.cudart.cuModuleGetFunction;
import static org.bytedeco.cuda.global.cudart.cuModuleLoadData;
import static org.bytedeco.cuda.global.cudart.cuStreamCreate;
import static org.bytedeco.cuda.global.cudart.cuStreamSynchronize;

/**
 * The CUDA backend: our kernels from native/*.cu (loaded from the fatbin in this jar), cuBLAS
 * for matmul, cuDNN for convolutions and cuFFT for the FFTs, all queued on one stream per
 * device. The host waits only when it reads ({@link #download}, {@link #synchronize}); errors
 * that kernels detect (an index out of range) are reported there.
 *
 * <p>Memory comes from a caching allocator: released storages go back to size-class free lists
 * and are reused, so a training loop that allocates the same shapes every step stops calling
 * cuMemAlloc after its first step. {@link #bytesInUse} counts the blocks of live storages.
 *
 * <p>Precision: cuBLAS and cuDNN use TF32 tensor cores by default; {@link #setTf32(boolean)}
 * (or {@code -Dmoesr.cuda.tf32=false}) switches to plain FP32 for exact comparisons. Our own
 * kernels compute in FP32 or FP64 as the CPU backend does (see docs/kernels.md).
 *
 * <p>All methods are synchronized: one thread at a time drives the device.
 */
public final class CudaBackend implements Backend {
    private static final int BLOCK = 256;
    /** Error bits the kernels set (MOESR_ERR_* in native/common.cuh). */
    private static final int ERR_INDEX_SELECT = 1, ERR_GATHER = 2;

    private static volatile boolean tf32 = !"false".equalsIgnoreCase(System.getProperty("moesr.cuda.tf32", "true"));
    private static final ThreadLocal<CUctx_st> CURRENT = new ThreadLocal<>();

    private final Device device;
    private final CUctx_st context = new CUctx_st();
    private final CUstream_st stream = new CUstream_st();
    private final CUmod_st module = new CUmod_st();
    private final Map<String, CUfunc_st> functions = new HashMap<>();
    private final KernelArgs args = new KernelArgs();
    private final CachingAllocator allocator;
    private final int multiprocessors;
    private final int computeCapability;
    private final long errorFlags;
    private boolean errorCheckPending;
    private CublasGemm blas;
    private CudnnConv dnn;
    private CufftPlans fft;
    private CudaStorage workspace;

    /** Opens device {@code index}; call only when {@link CudaSupport#unavailableReason} is null. */
    CudaBackend(int index) {
        this.device = Device.cuda(index);
        check(cuInit(0), "cuInit");
        int[] dev = new int[1];
        check(cuDeviceGet(dev, index), "cuDeviceGet(" + index + ")");
        check(cuDevicePrimaryCtxRetain(context, dev[0]), "cuDevicePrimaryCtxRetain");
        enter();
        check(cuStreamCreate(stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        int[] v = new int[1], major = new int[1], minor = new int[1];
        check(cuDeviceGetAttribute(v, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev[0]), "cuDeviceGetAttribute");
        multiprocessors = v[0];
        check(cuDeviceGetAttribute(major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev[0]), "cuDeviceGetAttribute");
        check(cuDeviceGetAttribute(minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev[0]), "cuDeviceGetAttribute");
        computeCapability = major[0] * 10 + minor[0];

        byte[] image = Fatbin.loadResource();
        if (image == null) throw new IllegalStateException("kernels.fatbin is missing from the cuda-kernels jar: rebuild it with nvcc");
        try (BytePointer p = new BytePointer(image)) {
            check(cuModuleLoadData(module, p), "cuModuleLoadData(kernels.fatbin)");
        }
        allocator = new CachingAllocator(new CachingAllocator.Raw() {
            @Override public long malloc(long bytes) {
                long[] a = new long[1];
                int r = cuMemAlloc(a, bytes);
                if (r == CUDA_ERROR_OUT_OF_MEMORY) return 0;
                check(r, "cuMemAlloc(" + bytes + ")");
                return a[0];
            }

            @Override public void free(long address) { check(cuMemFree(address), "cuMemFree"); }
        });
        long[] flags = new long[1];
        check(cuMemAlloc(flags, 4), "cuMemAlloc(error flags)");
        errorFlags = flags[0];
        check(cuMemsetD32Async(errorFlags, 0, 1, stream), "cuMemsetD32Async");
    }

    // ---- configuration and statistics ------------------------------------------------------

    /** Whether cuBLAS and cuDNN may use TF32 tensor cores (default on; -Dmoesr.cuda.tf32=false turns it off). */
    public static boolean isTf32() { return tf32; }

    /** Turns TF32 tensor-core math in matmul and convolutions on or off, for every CUDA device. */
    public static void setTf32(boolean on) { tf32 = on; }

    @Override public Device device() { return device; }

    /** Compute capability as major*10 + minor (90 for an H100). */
    public int computeCapability() { return computeCapability; }

    public int multiprocessors() { return multiprocessors; }

    @Override public synchronized long bytesInUse() { return allocator.bytesInUse(); }

    @Override public synchronized long peakBytes() { return allocator.peakBytes(); }

    @Override public synchronized void resetPeakBytes() { allocator.resetPeak(); }

    /** Bytes of released blocks the allocator keeps for reuse. */
    public synchronized long bytesCached() { return allocator.bytesCached(); }

    /** Calls to cuMemAlloc so far; flat once a loop reuses its blocks. */
    public synchronized long rawAllocations() { return allocator.rawAllocations(); }

    /** Gives the cached blocks back to the driver (after waiting for queued work). */
    public synchronized void emptyCache() {
        enter();
        syncStream();
        allocator.releaseCached();
    }

    // ---- memory ---------------------------------------------------------------------------

    @Override public synchronized Storage allocate(long floats) {
        if (floats < 0) throw new IllegalArgumentException("negative storage size " + floats);
        enter();
        return new CudaStorage(this, allocator.allocate(4 * floats), floats);
    }

    synchronized void freed(CachingAllocator.Block block) {
        allocator.release(block);
    }

    @Override public synchronized Storage upload(float[] host) {
        CudaStorage s = (CudaStorage) allocate(host.length);
        if (host.length > 0) {
            // from pageable memory the copy is staged before cuMemcpyHtoDAsync returns, so the buffer may go at once
            try (FloatPointer p = new FloatPointer(host)) {
                check(cuMemcpyHtoDAsync(s.address, p, 4L * host.length, stream), "cuMemcpyHtoDAsync");
            }
        }
        return s;
    }

    @Override public synchronized float[] download(Storage src, long offset, int count) {
        CudaStorage s = of(src);
        if (offset < 0 || count < 0 || offset + count > s.length()) {
            throw new IllegalArgumentException("download of [" + offset + ", " + (offset + count) + ") from a storage of " + s.length() + " floats");
        }
        enter();
        float[] out = new float[count];
        if (count == 0) {
            synchronize();
            return out;
        }
        try (FloatPointer p = new FloatPointer(count)) {
            check(cuMemcpyDtoHAsync(p, s.address + 4 * offset, 4L * count, stream), "cuMemcpyDtoHAsync");
            synchronize();
            p.get(out);
        }
        return out;
    }

    /** Waits for the queued work, then reports any error a kernel flagged since the last wait. */
    @Override public synchronized void synchronize() {
        enter();
        syncStream();
        if (errorCheckPending) {
            errorCheckPending = false;
            int flags;
            try (IntPointer p = new IntPointer(1)) {
                check(cuMemcpyDtoHAsync(p, errorFlags, 4, stream), "cuMemcpyDtoHAsync(error flags)");
                syncStream();
                flags = p.get(0);
            }
            if (flags != 0) {
                check(cuMemsetD32Async(errorFlags, 0, 1, stream), "cuMemsetD32Async");
                throw new IllegalArgumentException(describeErrors(flags));
            }
        }
    }

    private static String describeErrors(int flags) {
        StringBuilder sb = new StringBuilder("a CUDA kernel met bad input (found at this synchronisation, after the op ran):");
        if ((flags & ERR_INDEX_SELECT) != 0) sb.append(" an index of indexSelect/embedding was not a whole number in [0, size of the indexed dimension);");
        if ((flags & ERR_GATHER) != 0) sb.append(" an index of gather was not a whole number in [0, size of the gathered dimension);");
        return sb.append(" those elements were set to 0 (or skipped in the gradient): check the index tensors").toString();
    }

    private void syncStream() {
        int r = cuStreamSynchronize(stream);
        if (r != CUDA_SUCCESS) {
            throw new CudaException("a queued CUDA operation failed: " + CudaException.driverError(r)
                    + " (errors of this kind leave the CUDA context unusable; restart the process)");
        }
    }

    private void enter() {
        if (CURRENT.get() != context) {
            check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            CURRENT.set(context);
        }
    }

    private CudaStorage of(Storage s) {
        if (s instanceof CudaStorage c) {
            if (c.backend() != this) {
                throw new IllegalArgumentException("a tensor on " + c.backend().device() + " was passed to an operation on " + device
                        + "; move it with .to(" + device + ")");
            }
            return c;
        }
        throw new IllegalArgumentException("a tensor on " + s.backend().device() + " was passed to an operation on " + device
                + "; move it with .to(Device.cuda(" + device.index() + "))");
    }

    private long addr(Storage s) { return of(s).address; }

    /** A device workspace of at least {@code bytes}, kept and grown for cuDNN. */
    private long workspace(long bytes) {
        if (workspace == null || 4 * workspace.length() < bytes) {
            if (workspace != null) workspace.release();   // safe: everything runs in stream order
            workspace = (CudaStorage) allocate((bytes + 3) / 4);
        }
        return workspace.address;
    }

    // ---- launching ----------------------------------------------------------------------------

    private KernelArgs args() {
        enter();
        return args.reset();
    }

    private CUfunc_st function(String name) {
        CUfunc_st f = functions.get(name);
        if (f != null) return f;
        f = new CUfunc_st();
        int r = cuModuleGetFunction(f, module, name);
        if (r == CUDA_ERROR_NOT_FOUND) {
            throw new IllegalStateException("kernel " + name + " is not in kernels.fatbin: its source in native/ was not part of this build");
        }
        check(r, "cuModuleGetFunction(" + name + ")");
        functions.put(name, f);
        return f;
    }

    private void launch(String kernel, long gridBlocks, int blockThreads) {
        if (gridBlocks > Integer.MAX_VALUE) throw new IllegalArgumentException("launch of " + kernel + " needs " + gridBlocks + " blocks");
        int r = cuLaunchKernel(function(kernel), (int) gridBlocks, 1, 1, blockThreads, 1, 1, 0, stream, args.params(), (PointerPointer<?>) null);
        check(r, "cuLaunchKernel(" + kernel + ")");
    }

    /** A grid-stride launch over n elements: enough blocks to fill the device, no more than needed. */
    private void launchElements(String kernel, long n) {
        long blocks = Math.min((n + BLOCK - 1) / BLOCK, (long) multiprocessors * 32);
        launch(kernel, Math.max(1, blocks), BLOCK);
    }

    /** One block per row (grid-stride over rows). */
    private void launchRows(String kernel, long rows, int blockThreads) {
        launch(kernel, Math.max(1, Math.min(rows, (long) multiprocessors * 32)), blockThreads);
    }

    // ---- creation -------------------------------------------------------------------------

    @Override public synchronized void fill(Storage out, float value) {
        long n = out.length();
        if (n == 0) return;
        enter();
        check(cuMemsetD32Async(addr(out), Float.floatToRawIntBits(value), n, stream), "cuMemsetD32Async");
    }

    @Override public synchronized void arange(Storage out, float start, float step) {
        long n = out.length();
        if (n == 0) return;
        args().ptr(addr(out)).i64(n).f32(start).f32(step);
        launchElements("moesr_arange", n);
    }

    @Override public synchronized void randomUniform(Storage out, long seed, long counter) {
        random("philox_uniform", out, seed, counter);
    }

    @Override public synchronized void randomNormal(Storage out, long seed, long counter) {
        random("philox_normal", out, seed, counter);
    }

    /** native/random.cu: (float* out, long long n, unsigned long long seed, unsigned long long counter), one thread per element or more. */
    private void random(String kernel, Storage out, long seed, long counter) {
        long n = out.length();
        if (n == 0) return;
        args().ptr(addr(out)).i64(n).i64(seed).i64(counter);
        launch(kernel, (n + BLOCK - 1) / BLOCK, BLOCK);   // covers every element, whether or not the kernel strides
    }

    // ---- data movement ----------------------------------------------------------------------

    @Override public synchronized void copy(Storage src, long[] srcStrides, Storage dst, long[] dstStrides, int[] shape) {
        StridedLayout l = StridedLayout.of(shape, srcStrides, dstStrides);
        if (l.count == 0) return;
        long s = addr(src), d = addr(dst);
        if (l.rank == 1 && l.strides[0][0] == 1 && l.strides[1][0] == 1) {
            enter();
            check(cuMemcpyDtoDAsync(d, s, 4 * l.count, stream), "cuMemcpyDtoDAsync");
            return;
        }
        args().ptr(s).ptr(d).i64(l.count).i32(l.rank).dims(l.shape).dims(l.strides[0]).dims(l.strides[1]);
        launchElements("moesr_copy_strided", l.count);
    }

    // ---- elementwise ------------------------------------------------------------------------

    /** The op codes of native/unary.cu (enum MoesrUnaryOp). */
    static int unaryCode(UnaryOp op) {
        return switch (op) {
            case NEG -> 0;
            case EXP -> 1;
            case LOG -> 2;
            case SQRT -> 3;
            case RSQRT -> 4;
            case ABS -> 5;
            case TANH -> 6;
            case SIGMOID -> 7;
            case SILU -> 8;
            case SQUARE -> 9;
            case RECIPROCAL -> 10;
            case GELU_ERF -> 11;
            case GELU_TANH -> 12;
            case RELU -> 13;
            case LEAKY_RELU -> 14;
            case SOFTPLUS -> 15;
            case CLAMP -> 16;
            case POW_SCALAR -> 17;
            case ADD_SCALAR -> 18;
            case MUL_SCALAR -> 19;
            case SOFTSHRINK -> 20;
        };
    }

    /** The op codes of native/binary.cu (enum MoesrBinaryOp). */
    static int binaryCode(BinaryOp op) {
        return switch (op) {
            case ADD -> 0;
            case SUB -> 1;
            case MUL -> 2;
            case DIV -> 3;
            case POW -> 4;
            case MAX -> 5;
            case MIN -> 6;
            case EQ -> 7;
            case GT -> 8;
            case LT -> 9;
            case GE -> 10;
            case LE -> 11;
        };
    }

    /** The op codes of native/reduce.cu (enum MoesrReduceOp). */
    static int reduceCode(ReduceOp op) {
        return switch (op) {
            case SUM -> 0;
            case MAX -> 1;
            case MIN -> 2;
            case ARGMAX -> 3;
            case ARGMIN -> 4;
        };
    }

    @Override public synchronized void unary(UnaryOp op, Storage x, Storage out, float a, float b) {
        long n = sameLength("unary " + op, x, out);
        if (n == 0) return;
        long xa = addr(x), oa = addr(out), n4 = aligned16(xa, oa) ? n / 4 : 0;
        if (n4 > 0) {
            args().i32(unaryCode(op)).ptr(xa).ptr(oa).i64(n4).f32(a).f32(b);
            launchElements("moesr_unary4", n4);
        }
        long done = 4 * n4;
        if (done < n) {
            args().i32(unaryCode(op)).ptr(xa + 4 * done).ptr(oa + 4 * done).i64(n - done).f32(a).f32(b);
            launchElements("moesr_unary", n - done);
        }
    }

    /** Whether every address is 16-byte aligned (float4 loads and stores). */
    private static boolean aligned16(long... addresses) {
        for (long p : addresses) if ((p & 15) != 0) return false;
        return true;
    }

    @Override public synchronized void unaryBackward(UnaryOp op, Storage x, Storage gradOut, Storage gradIn, float a, float b) {
        long n = sameLength("unary backward " + op, x, gradOut, gradIn);
        if (n == 0) return;
        args().i32(unaryCode(op)).ptr(addr(x)).ptr(addr(gradOut)).ptr(addr(gradIn)).i64(n).f32(a).f32(b);
        launchElements("moesr_unary_backward", n);
    }

    @Override public synchronized void binary(BinaryOp op, Storage a, int[] aShape, Storage b, int[] bShape, Storage out, int[] outShape) {
        StridedLayout l = StridedLayout.of(outShape, StridedLayout.broadcastStrides(aShape, outShape), StridedLayout.broadcastStrides(bShape, outShape));
        if (l.count == 0) return;
        long aa = addr(a), ba = addr(b), oa = addr(out);
        boolean contiguous = l.rank == 1 && l.strides[0][0] == 1 && l.strides[1][0] == 1;
        long n4 = contiguous && aligned16(aa, ba, oa) ? l.count / 4 : 0;
        if (n4 > 0) {   // same-shape operands: float4s, then the tail below
            args().i32(binaryCode(op)).ptr(aa).ptr(ba).ptr(oa).i64(n4);
            launchElements("moesr_binary4", n4);
            long done = 4 * n4, rest = l.count - done;
            if (rest == 0) return;
            long[] one = new long[StridedLayout.MAX_RANK], len = new long[StridedLayout.MAX_RANK];
            one[0] = 1;
            len[0] = rest;
            args().i32(binaryCode(op)).ptr(aa + 4 * done).ptr(ba + 4 * done).ptr(oa + 4 * done).i64(rest).i32(1).dims(len).dims(one).dims(one);
            launchElements("moesr_binary", rest);
            return;
        }
        args().i32(binaryCode(op)).ptr(aa).ptr(ba).ptr(oa).i64(l.count)
                .i32(l.rank).dims(l.shape).dims(l.strides[0]).dims(l.strides[1]);
        launchElements("moesr_binary", l.count);
    }

    @Override public synchronized void where(Storage cond, int[] condShape, Storage a, int[] aShape, Storage b, int[] bShape,
                                             Storage out, int[] outShape) {
        StridedLayout l = StridedLayout.of(outShape, StridedLayout.broadcastStrides(condShape, outShape),
                StridedLayout.broadcastStrides(aShape, outShape), StridedLayout.broadcastStrides(bShape, outShape));
        if (l.count == 0) return;
        args().ptr(addr(cond)).ptr(addr(a)).ptr(addr(b)).ptr(addr(out)).i64(l.count)
                .i32(l.rank).dims(l.shape).dims(l.strides[0]).dims(l.strides[1]).dims(l.strides[2]);
        launchElements("moesr_where", l.count);
    }

    // ---- reductions -------------------------------------------------------------------------

    @Override public synchronized void reduce(ReduceOp op, Storage x, int[] shape, boolean[] reduced, Storage out) {
        if (reduced.length != shape.length) {
            throw new IllegalArgumentException("reduce mask of " + reduced.length + " dimensions for shape " + Arrays.toString(shape));
        }
        int marked = 0;
        for (boolean r : reduced) if (r) marked++;
        if ((op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN) && marked != 1) {
            throw new IllegalArgumentException(op + " reduces exactly one dimension, got " + marked + " of shape " + Arrays.toString(shape));
        }
        int r = shape.length;
        int[] keptShape = new int[r], redShape = new int[r];
        for (int i = 0; i < r; i++) {
            keptShape[i] = reduced[i] ? 1 : shape[i];
            redShape[i] = reduced[i] ? shape[i] : 1;
        }
        long[] strides = StridedLayout.contiguousStrides(shape);
        StridedLayout kept = StridedLayout.of(keptShape, strides);
        StridedLayout red = StridedLayout.of(redShape, strides);
        long nOut = kept.count, nRed = red.count;
        if (nOut == 0) return;
        if (op == ReduceOp.SUM && nRed >= SPLIT_SUM_MIN && nOut < multiprocessors) {
            splitSum(x, out, nOut, nRed, kept, red);
            return;
        }
        boolean small = nRed <= 64;
        args().i32(reduceCode(op)).ptr(addr(x)).ptr(addr(out)).i64(nOut).i64(nRed)
                .i32(kept.rank).dims(kept.shape).dims(kept.strides[0])
                .i32(red.rank).dims(red.shape).dims(red.strides[0]);
        if (small) launchElements("moesr_reduce_thread", nOut);
        else launchRows("moesr_reduce_block", nOut, nRed >= 4096 ? 256 : 128);
    }

    /** Reduced elements from which a SUM over fewer outputs than SMs is split across blocks. */
    private static final long SPLIT_SUM_MIN = 1 << 15;

    /** native/reduce.cu: about 8192 elements per block, at most 8 blocks per SM in all, then one pass over the partials. */
    private void splitSum(Storage x, Storage out, long nOut, long nRed, StridedLayout kept, StridedLayout red) {
        long splits = Math.max(2, Math.min((nRed + 8191) / 8192, (long) multiprocessors * 8 / nOut));
        Storage partial = allocate(2 * nOut * splits);   // doubles
        try {
            args().ptr(addr(x)).ptr(addr(partial)).i64(nOut).i64(nRed).i64(splits)
                    .i32(kept.rank).dims(kept.shape).dims(kept.strides[0])
                    .i32(red.rank).dims(red.shape).dims(red.strides[0]);
            launch("moesr_reduce_sum_partial", Math.min(nOut * splits, (long) multiprocessors * 32), 256);
            args().ptr(addr(partial)).ptr(addr(out)).i64(nOut).i64(splits);
            launchElements("moesr_reduce_sum_finish", nOut);
        } finally {
            partial.release();   // stream order keeps it alive for the queued kernels
        }
    }

    @Override public synchronized void softmax(Storage x, Storage out, int rows, int cols, boolean log) {
        if ((long) rows * cols == 0) return;
        if (!log && cols <= SOFTMAX_PER_THREAD * 1024) {   // the block holds the row in registers: one read of x
            int threads = 32;
            while ((long) threads * SOFTMAX_PER_THREAD < cols) threads <<= 1;
            args().ptr(addr(x)).ptr(addr(out)).i64(rows).i64(cols);
            launchRows("moesr_softmax_cached", rows, threads);
            return;
        }
        args().ptr(addr(x)).ptr(addr(out)).i64(rows).i64(cols).i32(log ? 1 : 0);
        launchRows("moesr_softmax", rows, rowBlock(cols));
    }

    /** MOESR_SOFTMAX_PER_THREAD in native/reduce.cu. */
    private static final int SOFTMAX_PER_THREAD = 8;

    @Override public synchronized void softmaxBackward(Storage y, Storage gradOut, Storage gradIn, int rows, int cols, boolean log) {
        if ((long) rows * cols == 0) return;
        args().ptr(addr(y)).ptr(addr(gradOut)).ptr(addr(gradIn)).i64(rows).i64(cols).i32(log ? 1 : 0);
        launchRows("moesr_softmax_backward", rows, rowBlock(cols));
    }

    /** Threads per row: a power of two from 32 to 256, about one per element. */
    private static int rowBlock(long cols) {
        int t = 32;
        while (t < 256 && t < cols) t <<= 1;
        return t;
    }

    // ---- normalisation ----------------------------------------------------------------------

    /** native/norm.cu: statistics one block per (sample, group), then one elementwise pass. */
    @Override public synchronized void groupNorm(Storage x, int n, int channels, long spatial, int groups, Storage weight, Storage bias,
                                                 float eps, boolean silu, Storage out, Storage mean, Storage rstd) {
        int perGroup = groupSplit(channels, groups);
        long groupCount = (long) n * groups, groupSize = perGroup * spatial, total = (long) n * channels * spatial;
        if (groupCount == 0) return;
        args().ptr(addr(x)).ptr(addr(mean)).ptr(addr(rstd)).i64(groupCount).i64(groupSize).f32(eps)
                .i32(groupSize % 4 == 0 && aligned16(addr(x)) ? 1 : 0);
        launchRows("moesr_group_norm_stats", groupCount, groupSize >= (1 << 16) ? 1024 : rowBlock(groupSize));
        if (total == 0) return;
        long rows = (long) n * channels, xa = addr(x), oa = addr(out);
        boolean vec = spatial % 4 == 0 && aligned16(xa, oa);
        args().ptr(xa).ptr(addrOrNull(weight)).ptr(addrOrNull(bias)).ptr(addr(mean)).ptr(addr(rstd)).ptr(oa)
                .i64(rows).i64(spatial).i64(GN_CHUNK).i32(channels).i32(perGroup).i32(silu ? 1 : 0).i32(vec ? 1 : 0);
        launchRowChunks("moesr_group_norm_apply", rows, spatial, vec ? 4 : 1);
    }

    /** Elements per block of the group norm's elementwise passes (a multiple of 4 for float4s). */
    private static final long GN_CHUNK = 4096;

    /** One block per (row, chunk of GN_CHUNK) pair, grid-stride; threads sized to the chunk's float (or float4) count. */
    private void launchRowChunks(String kernel, long rows, long spatial, int perThreadStep) {
        long pairs = rows * ((spatial + GN_CHUNK - 1) / GN_CHUNK);
        long items = Math.min(spatial, GN_CHUNK) / perThreadStep;
        int threads = 32;
        while (threads < 256 && threads < items) threads <<= 1;
        launch(kernel, Math.max(1, Math.min(pairs, (long) multiprocessors * 64)), threads);
    }

    /**
     * native/norm.cu: per (sample, channel) sums of ga and ga * xhat (one block each, in double,
     * into a scratch block), combined per group and per channel, then grad x elementwise.
     */
    @Override public synchronized void groupNormBackward(Storage gradOut, Storage x, Storage mean, Storage rstd, Storage weight, Storage bias,
                                                         int n, int channels, long spatial, int groups, boolean silu,
                                                         Storage gradX, Storage gradWeight, Storage gradBias) {
        int perGroup = groupSplit(channels, groups);
        long rows = (long) n * channels, groupCount = (long) n * groups, groupSize = perGroup * spatial, total = rows * spatial;
        if (gradX == null && gradWeight == null && gradBias == null) return;
        if (rows == 0) {   // no samples: the parameter gradients are sums of nothing
            if (gradWeight != null) fill(gradWeight, 0f);
            if (gradBias != null) fill(gradBias, 0f);
            return;
        }
        // scratch: sumGa and sumGaXhat as doubles (2 * rows * 2 floats), then the per-group coefficients
        Storage scratch = allocate(4 * rows + 2 * groupCount);
        try {
            long sums = addr(scratch), sumsXhat = sums + 8 * rows, coef = sums + 16 * rows;
            args().ptr(addr(gradOut)).ptr(addr(x)).ptr(addrOrNull(weight)).ptr(addrOrNull(bias)).ptr(addr(mean)).ptr(addr(rstd))
                    .ptr(sums).ptr(sumsXhat).i64(rows).i64(spatial).i32(channels).i32(perGroup).i32(silu ? 1 : 0);
            launchRows("moesr_group_norm_backward_rows", rows, spatial >= (1 << 16) ? 1024 : rowBlock(spatial));
            args().ptr(sums).ptr(sumsXhat).ptr(addrOrNull(weight)).ptr(gradX == null ? 0 : coef)
                    .ptr(addrOrNull(gradWeight)).ptr(addrOrNull(gradBias)).i64(n).i32(channels).i32(perGroup).i64(groupSize);
            launchElements("moesr_group_norm_backward_combine", Math.max(groupCount, channels));
            if (gradX != null && total > 0) {
                args().ptr(addr(gradOut)).ptr(addr(x)).ptr(addrOrNull(weight)).ptr(addrOrNull(bias)).ptr(addr(mean)).ptr(addr(rstd))
                        .ptr(coef).ptr(addr(gradX)).i64(rows).i64(spatial).i64(GN_CHUNK).i32(channels).i32(perGroup).i32(silu ? 1 : 0);
                launchRowChunks("moesr_group_norm_backward_x", rows, spatial, 1);
            }
        } finally {
            scratch.release();   // stream order keeps the block alive for the queued kernels
        }
    }

    private static int groupSplit(int channels, int groups) {
        if (groups < 1 || channels % groups != 0) {
            throw new IllegalArgumentException("group norm: " + channels + " channels do not split into " + groups + " groups");
        }
        return channels / groups;
    }

    private long addrOrNull(Storage s) { return s == null ? 0 : addr(s); }

    // ---- linear algebra -------------------------------------------------------------------

    @Override public synchronized void matmul(Storage a, Storage b, Storage c, int batch, int m, int n, int k,
                                              boolean transA, boolean transB, long strideA, long strideB, long strideC,
                                              float alpha, float beta) {
        if (batch < 0 || m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("matmul sizes must be >= 0: batch " + batch + ", m " + m + ", n " + n + ", k " + k);
        }
        if (batch == 0 || m == 0 || n == 0) return;
        long ca = addr(c);
        if (k == 0) {   // an empty sum: C = beta * C (cuBLAS may leave C untouched here)
            for (int i = 0; i < batch; i++) {
                long at = ca + 4 * strideC * i;
                if (beta == 0f) {
                    enter();
                    check(cuMemsetD32Async(at, 0, (long) m * n, stream), "cuMemsetD32Async");
                } else if (beta != 1f) {
                    args().ptr(at).i64((long) m * n).f32(beta);
                    launchElements("moesr_scale", (long) m * n);
                }
            }
            return;
        }
        enter();
        if (blas == null) blas = new CublasGemm(stream);
        blas.gemm(addr(a), addr(b), ca, batch, m, n, k, transA, transB, strideA, strideB, strideC, alpha, beta, tf32);
    }

    @Override public synchronized void conv2d(Storage x, Storage weight, Storage out, ConvGeometry g) {
        if (g.batch() == 0) return;
        List<Storage> temps = new ArrayList<>(2);
        try {
            conv().forward(aligned(x, temps), aligned(weight, temps), addr(out), g, tf32);
        } finally {
            temps.forEach(Storage::release);   // stream order keeps them alive for the queued convolution
        }
    }

    @Override public synchronized void conv2dBackwardData(Storage gradOut, Storage weight, Storage gradX, ConvGeometry g) {
        if (g.batch() == 0) return;
        List<Storage> temps = new ArrayList<>(2);
        try {
            conv().backwardData(aligned(gradOut, temps), aligned(weight, temps), addr(gradX), g, tf32);
        } finally {
            temps.forEach(Storage::release);
        }
    }

    @Override public synchronized void conv2dBackwardFilter(Storage x, Storage gradOut, Storage gradWeight, ConvGeometry g) {
        if (g.batch() == 0) {
            fill(gradWeight, 0f);
            return;
        }
        List<Storage> temps = new ArrayList<>(2);
        try {
            conv().backwardFilter(aligned(x, temps), aligned(gradOut, temps), addr(gradWeight), g, tf32);
        } finally {
            temps.forEach(Storage::release);
        }
    }

    /**
     * The address of {@code s} when it is 16-byte aligned (every allocation is; a view into one
     * may not be), else of an aligned copy added to {@code temps}: some cuDNN and cuFFT kernels
     * need 16-byte aligned operands.
     */
    private long aligned(Storage s, List<Storage> temps) {
        long a = addr(s);
        if (a % 16 == 0 || s.length() == 0) return a;
        Storage copy = allocate(s.length());
        temps.add(copy);
        enter();
        check(cuMemcpyDtoDAsync(addr(copy), a, 4 * s.length(), stream), "cuMemcpyDtoDAsync");
        return addr(copy);
    }

    private CudnnConv conv() {
        enter();
        if (dnn == null) dnn = new CudnnConv(stream, this::workspace);
        return dnn;
    }

    // ---- pooling --------------------------------------------------------------------------

    private KernelArgs poolGeometry(KernelArgs a, PoolGeometry g) {
        return a.i64((long) g.batch() * g.channels()).i32(g.inH()).i32(g.inW()).i32(g.outH()).i32(g.outW())
                .i32(g.kernelH()).i32(g.kernelW()).i32(g.strideH()).i32(g.strideW()).i32(g.padH()).i32(g.padW());
    }

    @Override public synchronized void maxPool2d(Storage x, Storage out, Storage argmax, PoolGeometry g) {
        long n = (long) g.batch() * g.channels() * g.outH() * g.outW();
        if (n == 0) return;
        poolGeometry(args().ptr(addr(x)).ptr(addr(out)).ptr(addr(argmax)), g);
        launchElements("moesr_maxpool2d", n);
    }

    @Override public synchronized void maxPool2dBackward(Storage gradOut, Storage argmax, Storage gradX, PoolGeometry g) {
        long n = (long) g.batch() * g.channels() * g.inH() * g.inW();
        if (n == 0) return;
        poolGeometry(args().ptr(addr(gradOut)).ptr(addr(argmax)).ptr(addr(gradX)), g);
        launchElements("moesr_maxpool2d_backward", n);
    }

    @Override public synchronized void avgPool2d(Storage x, Storage out, PoolGeometry g) {
        long n = (long) g.batch() * g.channels() * g.outH() * g.outW();
        if (n == 0) return;
        poolGeometry(args().ptr(addr(x)).ptr(addr(out)), g);
        launchElements("moesr_avgpool2d", n);
    }

    @Override public synchronized void avgPool2dBackward(Storage gradOut, Storage gradX, PoolGeometry g) {
        long n = (long) g.batch() * g.channels() * g.inH() * g.inW();
        if (n == 0) return;
        poolGeometry(args().ptr(addr(gradOut)).ptr(addr(gradX)), g);
        launchElements("moesr_avgpool2d_backward", n);
    }

    // ---- indexing -------------------------------------------------------------------------

    @Override public synchronized void indexSelect(Storage x, int outer, int axis, int inner, Storage index, int indexCount, Storage out) {
        long n = (long) outer * indexCount * inner;
        if (n == 0) return;
        args().ptr(addr(x)).ptr(addr(index)).ptr(addr(out)).i64(outer).i64(axis).i64(inner).i64(indexCount).ptr(errorFlags);
        launchElements("moesr_index_select", n);
        errorCheckPending = true;
    }

    @Override public synchronized void indexSelectBackward(Storage gradOut, int outer, int axis, int inner, Storage index, int indexCount,
                                                           Storage gradX) {
        fill(gradX, 0f);
        long n = (long) outer * indexCount * inner;
        if (n == 0) return;
        args().ptr(addr(gradOut)).ptr(addr(index)).ptr(addr(gradX)).i64(outer).i64(axis).i64(inner).i64(indexCount).ptr(errorFlags);
        launchElements("moesr_index_select_backward", n);
        errorCheckPending = true;
    }

    @Override public synchronized void gather(Storage x, int[] xShape, int dim, Storage index, int[] indexShape, Storage out) {
        checkGather(xShape, dim, indexShape);
        long n = StridedLayout.numel(indexShape);
        if (n == 0) return;
        args().ptr(addr(x)).ptr(addr(index)).ptr(addr(out)).i64(n).i32(indexShape.length)
                .dims(padded(indexShape)).dims(Arrays.copyOf(StridedLayout.contiguousStrides(xShape), StridedLayout.MAX_RANK))
                .i32(dim).i64(xShape[dim]).ptr(errorFlags);
        launchElements("moesr_gather", n);
        errorCheckPending = true;
    }

    @Override public synchronized void gatherBackward(Storage gradOut, int[] indexShape, int dim, Storage index, int[] xShape, Storage gradX) {
        checkGather(xShape, dim, indexShape);
        fill(gradX, 0f);
        long n = StridedLayout.numel(indexShape);
        if (n == 0) return;
        args().ptr(addr(gradOut)).ptr(addr(index)).ptr(addr(gradX)).i64(n).i32(indexShape.length)
                .dims(padded(indexShape)).dims(Arrays.copyOf(StridedLayout.contiguousStrides(xShape), StridedLayout.MAX_RANK))
                .i32(dim).i64(xShape[dim]).ptr(errorFlags);
        launchElements("moesr_gather_backward", n);
        errorCheckPending = true;
    }

    private static void checkGather(int[] xShape, int dim, int[] indexShape) {
        if (xShape.length != indexShape.length || dim < 0 || dim >= xShape.length) {
            throw new IllegalArgumentException("gather along dimension " + dim + " needs an index of the same rank as the input: input "
                    + Arrays.toString(xShape) + ", index " + Arrays.toString(indexShape));
        }
        if (xShape.length > StridedLayout.MAX_RANK) {
            throw new IllegalArgumentException("gather on CUDA takes tensors of rank <= " + StridedLayout.MAX_RANK + ", got " + Arrays.toString(xShape));
        }
        for (int d = 0; d < xShape.length; d++) {
            if (d != dim && indexShape[d] > xShape[d]) {
                throw new IllegalArgumentException("gather index shape " + Arrays.toString(indexShape) + " exceeds input shape "
                        + Arrays.toString(xShape) + " in dimension " + d + " (only dimension " + dim + " may differ freely)");
            }
        }
    }

    private static long[] padded(int[] shape) {
        long[] p = new long[StridedLayout.MAX_RANK];
        for (int i = 0; i < shape.length; i++) p[i] = shape[i];
        return p;
    }

    // ---- complex and FFT ------------------------------------------------------------------

    @Override public synchronized void complexMul(Storage a, int[] aShape, Storage b, int[] bShape, Storage out, int[] outShape,
                                                  boolean conjugateB) {
        StridedLayout l = StridedLayout.of(outShape, StridedLayout.broadcastStrides(aShape, outShape), StridedLayout.broadcastStrides(bShape, outShape));
        if (l.count == 0) return;
        args().ptr(addr(a)).ptr(addr(b)).ptr(addr(out)).i64(l.count).i32(l.rank).dims(l.shape).dims(l.strides[0]).dims(l.strides[1])
                .i32(conjugateB ? 1 : 0);
        launchElements("moesr_complex_mul", l.count);
    }

    @Override public synchronized void complexAbs(Storage z, Storage out) {
        long n = out.length();
        if (z.length() != 2 * n) throw new IllegalArgumentException("complexAbs of " + z.length() / 2 + " complex values into " + n + " floats");
        if (n == 0) return;
        args().ptr(addr(z)).ptr(addr(out)).i64(n);
        launchElements("moesr_complex_abs", n);
    }

    @Override public synchronized void fft2(Storage x, Storage out, int batch, int h, int w, boolean inverse) {
        if ((long) batch * h * w == 0) return;
        List<Storage> temps = new ArrayList<>(1);
        try {
            ffts().c2c(aligned(x, temps), addr(out), batch, h, w, inverse);
        } finally {
            temps.forEach(Storage::release);
        }
        scale(out, (long) batch * h * w * 2, h, w);
    }

    @Override public synchronized void rfft2(Storage x, Storage out, int batch, int h, int w) {
        if ((long) batch * h * w == 0) return;
        List<Storage> temps = new ArrayList<>(1);
        try {
            ffts().r2c(aligned(x, temps), addr(out), batch, h, w);
        } finally {
            temps.forEach(Storage::release);
        }
        scale(out, (long) batch * h * (w / 2 + 1) * 2, h, w);
    }

    @Override public synchronized void irfft2(Storage x, Storage out, int batch, int h, int w) {
        if ((long) batch * h * w == 0) return;
        // cuFFT's complex-to-real transform overwrites its input, which the caller still owns
        Storage scratch = allocate(x.length());
        try {
            enter();
            check(cuMemcpyDtoDAsync(addr(scratch), addr(x), 4 * x.length(), stream), "cuMemcpyDtoDAsync");
            ffts().c2r(addr(scratch), addr(out), batch, h, w);
        } finally {
            scratch.release();   // stream order keeps the block alive for the queued transform
        }
        scale(out, (long) batch * h * w, h, w);
    }

    private CufftPlans ffts() {
        enter();
        if (fft == null) fft = new CufftPlans(stream);
        return fft;
    }

    /** Orthonormal scaling 1/sqrt(h*w) of n floats. */
    private void scale(Storage s, long n, int h, int w) {
        args().ptr(addr(s)).i64(n).f32((float) (1.0 / Math.sqrt((double) h * w)));
        launchElements("moesr_scale", n);
    }

    // ---- optimiser updates (not in the Backend interface yet) --------------------------------

    /**
     * One fused AdamW step, in place on {@code param}, {@code m} and {@code v} (see
     * native/optim.cu): decoupled weight decay, bias corrections for step {@code step} (from 1).
     */
    @Override public synchronized void adamStep(Storage param, Storage grad, Storage m, Storage v, long step,
                                                float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled) {
        if (step < 1) throw new IllegalArgumentException("Adam steps count from 1, got " + step);
        long n = sameLength("adamStep", param, grad, m, v);
        if (n == 0) return;
        float bc1 = (float) (1 - Math.pow(beta1, step));
        float bc2 = (float) (1 - Math.pow(beta2, step));
        args().ptr(addr(param)).ptr(addr(grad)).ptr(addr(m)).ptr(addr(v)).i64(n)
                .f32(lr).f32(beta1).f32(beta2).f32(eps).f32(weightDecay).f32(bc1).f32(bc2).i32(decoupled ? 1 : 0);
        launchElements("moesr_adam_step", n);
    }

    @Override public synchronized void emaUpdate(Storage ema, Storage param, float rate) {
        long n = sameLength("emaUpdate", ema, param);
        if (n == 0) return;
        args().ptr(addr(ema)).ptr(addr(param)).i64(n).f32(rate);
        launchElements("moesr_ema_update", n);
    }

    /** out = the mean of {@code experts} (same-length storages, at least one), summed in double per chunk of 16. */
    public synchronized void averageInto(Storage out, List<Storage> experts) {
        if (experts.isEmpty()) throw new IllegalArgumentException("averageInto needs at least one expert tensor");
        Storage[] all = new Storage[experts.size() + 1];
        all[0] = out;
        for (int i = 0; i < experts.size(); i++) all[i + 1] = experts.get(i);
        long n = sameLength("averageInto", all);
        if (n == 0) return;
        long[] addresses = new long[experts.size()];
        for (int i = 0; i < addresses.length; i++) addresses[i] = addr(experts.get(i));
        float scale = 1f / experts.size();
        for (int from = 0; from < addresses.length; from += 16) {
            int count = Math.min(16, addresses.length - from);
            args().ptr(addr(out)).i64(n).i32(count).ptrs16(addresses, from, count).f32(scale).i32(from == 0 ? 0 : 1);
            launchElements("moesr_average", n);
        }
    }

    private static long sameLength(String op, Storage... s) {
        long n = s[0].length();
        for (Storage x : s) {
            if (x.length() != n) {
                long[] lengths = Arrays.stream(s).mapToLong(Storage::length).toArray();
                throw new IllegalArgumentException(op + " needs storages of one length, got " + Arrays.toString(lengths));
            }
        }
        return n;
    }

    @Override public String toString() {
        return "CudaBackend(" + device + ", sm_" + computeCapability + ", " + multiprocessors + " SMs)";
    }
}
