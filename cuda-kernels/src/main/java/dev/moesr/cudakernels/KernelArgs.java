package dev.moesr.cudakernels;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The argument list of one kernel launch, in the form cuLaunchKernel's kernelParams takes: an
 * array of pointers, one per parameter, each to the parameter's value. Values live in one
 * native buffer that is reused for every launch (cuLaunchKernel copies them before it returns).
 * Each value is written at its natural alignment; the kernel's parameter types must match the
 * calls here one for one (see the signatures in native/*.cu).
 */
final class KernelArgs implements AutoCloseable {
    private static final int MAX_ARGS = 32;
    private static final int VALUE_BYTES = 4096;

    private final BytePointer values = new BytePointer(VALUE_BYTES);
    private final LongPointer slots = new LongPointer(MAX_ARGS);
    /** The same memory as slots, typed as the void** that cuLaunchKernel takes. */
    private final PointerPointer<?> params = new PointerPointer<>(slots);
    private long used;
    private int count;

    /** Starts a new argument list. */
    KernelArgs reset() {
        used = 0;
        count = 0;
        return this;
    }

    private long slot(int bytes, int align) {
        if (count == MAX_ARGS) throw new IllegalStateException("more than " + MAX_ARGS + " kernel arguments");
        long at = (used + align - 1) / align * align;
        if (at + bytes > VALUE_BYTES) throw new IllegalStateException("kernel arguments exceed " + VALUE_BYTES + " bytes");
        slots.put(count++, values.address() + at);
        used = at + bytes;
        return at;
    }

    /** A device pointer (T*). */
    KernelArgs ptr(long deviceAddress) {
        values.putLong(slot(8, 8), deviceAddress);
        return this;
    }

    /** An int. */
    KernelArgs i32(int v) {
        values.putInt(slot(4, 4), v);
        return this;
    }

    /** A long long (or unsigned long long: same bits). */
    KernelArgs i64(long v) {
        values.putLong(slot(8, 8), v);
        return this;
    }

    KernelArgs f32(float v) {
        values.putFloat(slot(4, 4), v);
        return this;
    }

    /** A Dims struct by value: exactly StridedLayout.MAX_RANK long longs. */
    KernelArgs dims(long[] v) {
        if (v.length != StridedLayout.MAX_RANK) throw new IllegalArgumentException("Dims takes " + StridedLayout.MAX_RANK + " values, got " + v.length);
        long at = slot(8 * v.length, 8);
        for (int i = 0; i < v.length; i++) values.putLong(at + 8L * i, v[i]);
        return this;
    }

    /** A Ptrs16 struct by value: 16 device pointers, unused ones 0. */
    KernelArgs ptrs16(long[] addresses, int from, int n) {
        if (n > 16) throw new IllegalArgumentException("at most 16 pointers, got " + n);
        long at = slot(8 * 16, 8);
        for (int i = 0; i < 16; i++) values.putLong(at + 8L * i, i < n ? addresses[from + i] : 0L);
        return this;
    }

    int count() { return count; }

    /** Where argument i's value lives (host memory), for tests. */
    long slotAddress(int i) { return slots.get(i); }

    /**
     * The kernelParams array for cuLaunchKernel. Pass it as a PointerPointer: the binding's
     * overload that takes a plain Pointer is {@code @ByPtrPtr}, so it would hand the driver the
     * address of a pointer to this array (every launch then fails with CUDA_ERROR_INVALID_VALUE).
     */
    PointerPointer<?> params() { return params; }

    @Override public void close() {
        params.close();
        values.close();
        slots.close();
    }
}
