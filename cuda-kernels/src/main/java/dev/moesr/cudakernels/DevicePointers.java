package dev.moesr.cudakernels;

import org.bytedeco.cuda.cudart.float2;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * JavaCPP pointer objects for raw device addresses, for the library calls that take typed
 * pointers (cuBLAS, cuDNN, cuFFT). They own nothing: no deallocator, never freed.
 */
final class DevicePointers {
    private DevicePointers() {}

    private static final class Raw extends Pointer {
        Raw(long address) { this.address = address; }
    }

    static Pointer at(long address) { return new Raw(address); }

    static FloatPointer floats(long address) { return new FloatPointer(new Raw(address)); }

    static float2 complex(long address) { return new float2(new Raw(address)); }
}
