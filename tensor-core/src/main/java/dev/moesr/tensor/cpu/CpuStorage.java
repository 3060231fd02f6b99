package dev.moesr.tensor.cpu;

import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.Storage;

/** A float[] (or a window of one) on the Java heap. */
public final class CpuStorage extends Storage {
    /** The whole array of the root; index with {@link #base}. */
    public final float[] data;
    /** Index of this storage's first float within {@link #data}. */
    public final int base;

    /** Whether the array came from the backend's pool (and goes back to it when freed). */
    private final boolean pooled;

    CpuStorage(float[] data) { this(data, false); }

    CpuStorage(float[] data, boolean pooled) {
        super(data.length);
        this.data = data;
        this.base = 0;
        this.pooled = pooled;
    }

    private CpuStorage(CpuStorage root, long offset, long length) {
        super(root, offset, length);
        this.data = root.data;
        this.base = (int) offset;
        this.pooled = false;   // a view never frees: its root does
    }

    /** The CPU storage behind {@code s}, with a clear error when a tensor from another device reaches the CPU backend. */
    public static CpuStorage of(Storage s) {
        if (s instanceof CpuStorage c) return c;
        throw new IllegalArgumentException("a tensor on " + s.backend().device() + " was passed to a CPU operation; move it with .to(Device.CPU)");
    }

    @Override public Backend backend() { return CpuBackend.INSTANCE; }

    @Override protected Storage makeView(Storage root, long offset, long length) {
        return new CpuStorage((CpuStorage) root, offset, length);
    }

    @Override protected void free() { CpuBackend.INSTANCE.freed(data, pooled); }
}
