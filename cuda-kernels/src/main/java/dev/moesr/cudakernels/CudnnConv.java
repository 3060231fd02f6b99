package dev.moesr.cudakernels;

import dev.moesr.tensor.backend.ConvGeometry;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongUnaryOperator;

import static org.bytedeco.cuda.global.cudnn.CUDNN_CROSS_CORRELATION;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DATA_FLOAT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_FMA_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_NCHW;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionBackwardData;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionBackwardFilter;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionForward;
import static org.bytedeco.cuda.global.cudnn.cudnnCreate;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateConvolutionDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateFilterDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateTensorDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnDestroy;
import static org.bytedeco.cuda.global.cudnn.cudnnDestroyConvolutionDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnDestroyFilterDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnDestroyTensorDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnFindConvolutionBackwardDataAlgorithm;
import static org.bytedeco.cuda.global.cudnn.cudnnFindConvolutionBackwardFilterAlgorithm;
import static org.bytedeco.cuda.global.cudnn.cudnnFindConvolutionForwardAlgorithm;
import static org.bytedeco.cuda.global.cudnn.cudnnGetErrorString;
import static org.bytedeco.cuda.global.cudnn.cudnnSetConvolution2dDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnSetConvolutionGroupCount;
import static org.bytedeco.cuda.global.cudnn.cudnnSetConvolutionMathType;
import static org.bytedeco.cuda.global.cudnn.cudnnSetFilter4dDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnSetStream;
import static org.bytedeco.cuda.global.cudnn.cudnnSetTensor4dDescriptor;

/**
 * 2-D convolutions (forward, backward data, backward filter, with groups) through cuDNN's
 * legacy convolution API. For each geometry, direction and precision the descriptors are made
 * once and the algorithm is chosen once with cudnnFind* (it times the candidates), then reused
 * with a shared workspace. With TF32 off, only algorithms in plain FMA math are accepted.
 */
final class CudnnConv implements AutoCloseable {
    enum Direction { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    private record Key(ConvGeometry g, Direction direction, boolean tf32) {}

    /** Descriptors and the chosen algorithm of one key. */
    private static final class Plan {
        final cudnnTensorStruct x = new cudnnTensorStruct();
        final cudnnTensorStruct y = new cudnnTensorStruct();
        final cudnnFilterStruct w = new cudnnFilterStruct();
        final cudnnConvolutionStruct conv = new cudnnConvolutionStruct();
        int algo;
        long workspaceBytes;
    }

    private static final int CANDIDATES = 16;

    private final cudnnContext handle = new cudnnContext();
    private final Map<Key, Plan> plans = new HashMap<>();
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);
    /** Gives a device workspace of at least the asked bytes (kept by the backend, reused). */
    private final LongUnaryOperator workspace;

    CudnnConv(CUstream_st stream, LongUnaryOperator workspace) {
        this.workspace = workspace;
        check(cudnnCreate(handle), "cudnnCreate");
        check(cudnnSetStream(handle, stream), "cudnnSetStream");
    }

    /** y = conv(x, w), overwriting y. */
    void forward(long x, long w, long y, ConvGeometry g, boolean tf32) {
        Plan p = plan(new Key(g, Direction.FORWARD, tf32));
        long ws = p.workspaceBytes == 0 ? 0 : workspace.applyAsLong(p.workspaceBytes);
        check(cudnnConvolutionForward(handle, one, p.x, DevicePointers.at(x), p.w, DevicePointers.at(w), p.conv, p.algo,
                DevicePointers.at(ws), p.workspaceBytes, zero, p.y, DevicePointers.at(y)), "cudnnConvolutionForward");
    }

    /** dx = the gradient of the input, overwriting dx. */
    void backwardData(long dy, long w, long dx, ConvGeometry g, boolean tf32) {
        Plan p = plan(new Key(g, Direction.BACKWARD_DATA, tf32));
        long ws = p.workspaceBytes == 0 ? 0 : workspace.applyAsLong(p.workspaceBytes);
        check(cudnnConvolutionBackwardData(handle, one, p.w, DevicePointers.at(w), p.y, DevicePointers.at(dy), p.conv, p.algo,
                DevicePointers.at(ws), p.workspaceBytes, zero, p.x, DevicePointers.at(dx)), "cudnnConvolutionBackwardData");
    }

    /** dw = the gradient of the weight, overwriting dw. */
    void backwardFilter(long x, long dy, long dw, ConvGeometry g, boolean tf32) {
        Plan p = plan(new Key(g, Direction.BACKWARD_FILTER, tf32));
        long ws = p.workspaceBytes == 0 ? 0 : workspace.applyAsLong(p.workspaceBytes);
        check(cudnnConvolutionBackwardFilter(handle, one, p.x, DevicePointers.at(x), p.y, DevicePointers.at(dy), p.conv, p.algo,
                DevicePointers.at(ws), p.workspaceBytes, zero, p.w, DevicePointers.at(dw)), "cudnnConvolutionBackwardFilter");
    }

    private Plan plan(Key key) {
        Plan p = plans.get(key);
        if (p != null) return p;
        p = describe(key.g());
        check(cudnnSetConvolutionMathType(p.conv, key.tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
        int[] returned = new int[1];
        int chosen = -1;
        switch (key.direction()) {
            case FORWARD -> {
                try (cudnnConvolutionFwdAlgoPerf_t r = new cudnnConvolutionFwdAlgoPerf_t(CANDIDATES)) {
                    check(cudnnFindConvolutionForwardAlgorithm(handle, p.x, p.w, p.conv, p.y, CANDIDATES, returned, r), "cudnnFindConvolutionForwardAlgorithm");
                    for (int i = 0; i < returned[0] && chosen < 0; i++) {
                        r.position(i);
                        if (acceptable(r.status(), r.mathType(), key.tf32())) {
                            chosen = i;
                            p.algo = r.algo();
                            p.workspaceBytes = r.memory();
                            check(cudnnSetConvolutionMathType(p.conv, r.mathType()), "cudnnSetConvolutionMathType");
                        }
                    }
                }
            }
            case BACKWARD_DATA -> {
                try (cudnnConvolutionBwdDataAlgoPerf_t r = new cudnnConvolutionBwdDataAlgoPerf_t(CANDIDATES)) {
                    check(cudnnFindConvolutionBackwardDataAlgorithm(handle, p.w, p.y, p.conv, p.x, CANDIDATES, returned, r), "cudnnFindConvolutionBackwardDataAlgorithm");
                    for (int i = 0; i < returned[0] && chosen < 0; i++) {
                        r.position(i);
                        if (acceptable(r.status(), r.mathType(), key.tf32())) {
                            chosen = i;
                            p.algo = r.algo();
                            p.workspaceBytes = r.memory();
                            check(cudnnSetConvolutionMathType(p.conv, r.mathType()), "cudnnSetConvolutionMathType");
                        }
                    }
                }
            }
            case BACKWARD_FILTER -> {
                try (cudnnConvolutionBwdFilterAlgoPerf_t r = new cudnnConvolutionBwdFilterAlgoPerf_t(CANDIDATES)) {
                    check(cudnnFindConvolutionBackwardFilterAlgorithm(handle, p.x, p.y, p.conv, p.w, CANDIDATES, returned, r), "cudnnFindConvolutionBackwardFilterAlgorithm");
                    for (int i = 0; i < returned[0] && chosen < 0; i++) {
                        r.position(i);
                        if (acceptable(r.status(), r.mathType(), key.tf32())) {
                            chosen = i;
                            p.algo = r.algo();
                            p.workspaceBytes = r.memory();
                            check(cudnnSetConvolutionMathType(p.conv, r.mathType()), "cudnnSetConvolutionMathType");
                        }
                    }
                }
            }
        }
        if (chosen < 0) {
            destroy(p);
            throw new CudaException("cuDNN has no usable " + key.direction() + " algorithm for " + key.g()
                    + (key.tf32() ? "" : " in FP32 (TF32 off); try CudaBackend.setTf32(true)"));
        }
        plans.put(key, p);
        return p;
    }

    private static boolean acceptable(int status, int mathType, boolean tf32) {
        return status == CUDNN_STATUS_SUCCESS && (tf32 || mathType == CUDNN_FMA_MATH);
    }

    /** Tensor, filter and convolution descriptors of a geometry (NCHW, float). */
    private static Plan describe(ConvGeometry g) {
        Plan p = new Plan();
        check(cudnnCreateTensorDescriptor(p.x), "cudnnCreateTensorDescriptor");
        check(cudnnCreateTensorDescriptor(p.y), "cudnnCreateTensorDescriptor");
        check(cudnnCreateFilterDescriptor(p.w), "cudnnCreateFilterDescriptor");
        check(cudnnCreateConvolutionDescriptor(p.conv), "cudnnCreateConvolutionDescriptor");
        check(cudnnSetTensor4dDescriptor(p.x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, g.batch(), g.inChannels(), g.inH(), g.inW()),
                "cudnnSetTensor4dDescriptor(x)");
        check(cudnnSetTensor4dDescriptor(p.y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, g.batch(), g.outChannels(), g.outH(), g.outW()),
                "cudnnSetTensor4dDescriptor(y)");
        check(cudnnSetFilter4dDescriptor(p.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, g.outChannels(), g.inChannels() / g.groups(),
                g.kernelH(), g.kernelW()), "cudnnSetFilter4dDescriptor");
        check(cudnnSetConvolution2dDescriptor(p.conv, g.padH(), g.padW(), g.strideH(), g.strideW(), g.dilationH(), g.dilationW(),
                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), "cudnnSetConvolution2dDescriptor");
        check(cudnnSetConvolutionGroupCount(p.conv, g.groups()), "cudnnSetConvolutionGroupCount");
        return p;
    }

    private static void destroy(Plan p) {
        cudnnDestroyTensorDescriptor(p.x);
        cudnnDestroyTensorDescriptor(p.y);
        cudnnDestroyFilterDescriptor(p.w);
        cudnnDestroyConvolutionDescriptor(p.conv);
    }

    static void check(int status, String call) {
        if (status != CUDNN_STATUS_SUCCESS) {
            BytePointer s = cudnnGetErrorString(status);
            throw new CudaException(call + " failed: cuDNN status " + status + (s == null || s.isNull() ? "" : " (" + s.getString() + ")"));
        }
    }

    @Override public void close() {
        for (Plan p : plans.values()) destroy(p);
        plans.clear();
        cudnnDestroy(handle);
        one.close();
        zero.close();
    }
}
