package dev.moesr.cudakernels;

import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.Storage;

/** Floats in device memory: a block of the caching allocator, or a view into one. */
public final class CudaStorage extends Storage {
    private final CudaBackend backend;
    /** The device address of this storage's first float. */
    final long address;
    /** The allocator block of a root (null for a view). */
    private final CachingAllocator.Block block;

    /** A root over a fresh block. */
    CudaStorage(CudaBackend backend, CachingAllocator.Block block, long floats) {
        super(floats);
        this.backend = backend;
        this.block = block;
        this.address = block.address();
    }

    private CudaStorage(CudaStorage root, long offset, long length) {
        super(root, offset, length);
        this.backend = root.backend;
        this.block = null;
        this.address = root.address + 4 * offset;
    }

    @Override public Backend backend() { return backend; }

    @Override protected Storage makeView(Storage root, long offset, long length) {
        return new CudaStorage((CudaStorage) root, offset, length);
    }

    @Override protected void free() { backend.freed(block); }

    /** The device address of this storage, as a kernel argument. */
    public long address() { return address; }
}
