package dev.moesr.cudakernels;

import org.bytedeco.cuda.cudart.CUstream_st;

import java.util.HashMap;
import java.util.Map;

import static org.bytedeco.cuda.global.cufft.CUFFT_C2C;
import static org.bytedeco.cuda.global.cufft.CUFFT_C2R;
import static org.bytedeco.cuda.global.cufft.CUFFT_FORWARD;
import static org.bytedeco.cuda.global.cufft.CUFFT_INVERSE;
import static org.bytedeco.cuda.global.cufft.CUFFT_R2C;
import static org.bytedeco.cuda.global.cufft.CUFFT_SUCCESS;
import static org.bytedeco.cuda.global.cufft.cufftDestroy;
import static org.bytedeco.cuda.global.cufft.cufftExecC2C;
import static org.bytedeco.cuda.global.cufft.cufftExecC2R;
import static org.bytedeco.cuda.global.cufft.cufftExecR2C;
import static org.bytedeco.cuda.global.cufft.cufftPlanMany;
import static org.bytedeco.cuda.global.cufft.cufftSetStream;

/**
 * Batched 2-D FFTs over the last two dimensions of contiguous [batch, h, w] data, with one
 * cuFFT plan per (type, batch, h, w), made on first use and kept. cuFFT does not normalise;
 * the backend scales the result by 1/sqrt(h*w) afterwards (orthonormal in both directions).
 */
final class CufftPlans implements AutoCloseable {
    private record Key(int type, int batch, int h, int w) {}

    private final CUstream_st stream;
    private final Map<Key, Integer> plans = new HashMap<>();

    CufftPlans(CUstream_st stream) { this.stream = stream; }

    /** Complex to complex, out of place (x is not modified). */
    void c2c(long x, long out, int batch, int h, int w, boolean inverse) {
        check(cufftExecC2C(plan(CUFFT_C2C, batch, h, w), DevicePointers.complex(x), DevicePointers.complex(out),
                inverse ? CUFFT_INVERSE : CUFFT_FORWARD), "cufftExecC2C");
    }

    /** Real [batch, h, w] to complex [batch, h, w/2+1]. */
    void r2c(long x, long out, int batch, int h, int w) {
        check(cufftExecR2C(plan(CUFFT_R2C, batch, h, w), DevicePointers.floats(x), DevicePointers.complex(out)), "cufftExecR2C");
    }

    /** Complex [batch, h, w/2+1] to real [batch, h, w]. cuFFT overwrites the input: pass a scratch copy. */
    void c2r(long scratchIn, long out, int batch, int h, int w) {
        check(cufftExecC2R(plan(CUFFT_C2R, batch, h, w), DevicePointers.complex(scratchIn), DevicePointers.floats(out)), "cufftExecC2R");
    }

    private int plan(int type, int batch, int h, int w) {
        Key key = new Key(type, batch, h, w);
        Integer p = plans.get(key);
        if (p != null) return p;
        int[] handle = new int[1];
        // null embeddings: the default packed layouts of [batch, h, w] (real or complex) and [batch, h, w/2+1]
        check(cufftPlanMany(handle, 2, new int[] {h, w}, null, 1, 0, null, 1, 0, type, batch), "cufftPlanMany");
        check(cufftSetStream(handle[0], stream), "cufftSetStream");
        plans.put(key, handle[0]);
        return handle[0];
    }

    static void check(int result, String call) {
        if (result != CUFFT_SUCCESS) throw new CudaException(call + " failed: cuFFT result " + result);
    }

    @Override public void close() {
        for (int p : plans.values()) cufftDestroy(p);
        plans.clear();
    }
}
