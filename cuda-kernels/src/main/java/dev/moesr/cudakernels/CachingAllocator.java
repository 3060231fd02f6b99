package dev.moesr.cudakernels;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;

/**
 * Device memory by size class, with released blocks kept for reuse instead of going back to
 * the driver: a training loop allocates the same sizes every step, so after the first steps it
 * never calls cuMemAlloc again. All work runs on one stream in order, so a block released
 * here can be handed out again at once: kernels that still read it are queued before any
 * kernel of its next owner.
 *
 * <p>Size classes: multiples of 512 bytes up to 1 MiB; above that, eight classes per power of
 * two (at most 12.5% waste). Not thread-safe: the backend calls it under its lock.
 */
final class CachingAllocator {
    /** The raw device allocator underneath (cuMemAlloc / cuMemFree; a fake in tests). */
    interface Raw {
        /** A new block of {@code bytes}, or 0 when the device is out of memory. */
        long malloc(long bytes);

        void free(long address);
    }

    /** A block handed out: its device address and its size class in bytes. */
    record Block(long address, long bytes) {}

    static final long SMALL_LIMIT = 1 << 20;
    static final long SMALL_STEP = 512;

    private final Raw raw;
    private final TreeMap<Long, ArrayDeque<Long>> free = new TreeMap<>();
    private long inUse, peak, cached, mallocs;

    CachingAllocator(Raw raw) { this.raw = raw; }

    /** The size class that holds {@code bytes}. */
    static long sizeClass(long bytes) {
        if (bytes <= 0) return 0;
        if (bytes <= SMALL_LIMIT) return roundUp(bytes, SMALL_STEP);
        long step = Long.highestOneBit(bytes - 1) / 8;
        return roundUp(bytes, step);
    }

    private static long roundUp(long v, long step) { return (v + step - 1) / step * step; }

    /** A block of at least {@code bytes}; a zero-size request gets address 0 and uses nothing. */
    Block allocate(long bytes) {
        long size = sizeClass(bytes);
        if (size == 0) return new Block(0, 0);
        Long address = null;
        ArrayDeque<Long> list = free.get(size);
        if (list != null && !list.isEmpty()) {
            address = list.pop();
            cached -= size;
        }
        if (address == null) {
            long a = raw.malloc(size);
            if (a == 0 && cached > 0) {
                releaseCached();   // give the cache back to the driver, then try once more
                a = raw.malloc(size);
            }
            if (a == 0) {
                throw new IllegalStateException(String.format(
                        "CUDA out of memory: %d bytes requested, %d in use by live tensors (peak %d); "
                                + "use smaller batches or tiles, or release tensors sooner (close their Scope)",
                        bytes, inUse, peak));
            }
            mallocs++;
            address = a;
        }
        inUse += size;
        peak = Math.max(peak, inUse);
        return new Block(address, size);
    }

    /** Takes a block back into the cache. */
    void release(Block b) {
        if (b.bytes() == 0) return;
        free.computeIfAbsent(b.bytes(), k -> new ArrayDeque<>()).push(b.address());
        inUse -= b.bytes();
        cached += b.bytes();
    }

    /** Frees every cached block (the driver gets the memory back). */
    void releaseCached() {
        for (Map.Entry<Long, ArrayDeque<Long>> e : free.entrySet()) {
            for (long a : e.getValue()) raw.free(a);
        }
        free.clear();
        cached = 0;
    }

    /** Bytes of blocks held by live storages (size classes, so a little above what was asked). */
    long bytesInUse() { return inUse; }

    long peakBytes() { return peak; }

    void resetPeak() { peak = inUse; }

    /** Bytes of released blocks kept for reuse. */
    long bytesCached() { return cached; }

    /** How many times the raw allocator was called (stays flat once a loop is warm). */
    long rawAllocations() { return mallocs; }
}
