package dev.moesr.cudakernels;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.cuGetErrorName;
import static org.bytedeco.cuda.global.cudart.cuGetErrorString;

/** A CUDA driver, cuBLAS, cuDNN or cuFFT call that returned an error, with the call and the error's name. */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CudaException(String message) { super(message); }

    /** Throws when a driver API call did not return CUDA_SUCCESS. */
    static void check(int result, String call) {
        if (result != CUDA_SUCCESS) throw new CudaException(call + " failed: " + driverError(result));
    }

    /** "CUDA_ERROR_NAME (description)" of a driver API result. */
    static String driverError(int result) {
        String name = "error " + result, text = "";
        // const char** out-parameters: read through a one-slot pointer array
        try (PointerPointer<BytePointer> out = new PointerPointer<>(1)) {
            if (cuGetErrorName(result, out) == CUDA_SUCCESS) name = orElse(out.get(BytePointer.class, 0), name);
            out.put(0, (Pointer) null);
            if (cuGetErrorString(result, out) == CUDA_SUCCESS) text = " (" + orElse(out.get(BytePointer.class, 0), "no description") + ")";
        }
        return name + text;
    }

    private static String orElse(BytePointer s, String fallback) {
        return s == null || s.isNull() ? fallback : s.getString();
    }
}
