package dev.moesr.cudakernels;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The caching allocator's bookkeeping, over a fake device with a fixed capacity. */
class CachingAllocatorTest {
    /** Hands out increasing addresses up to a capacity; remembers what is live. */
    static final class FakeDevice implements CachingAllocator.Raw {
        final long capacity;
        long used, next = 1 << 20, mallocs, frees;
        final Set<Long> live = new HashSet<>();
        final java.util.Map<Long, Long> sizes = new java.util.HashMap<>();

        FakeDevice(long capacity) { this.capacity = capacity; }

        @Override public long malloc(long bytes) {
            if (used + bytes > capacity) return 0;
            long a = next;
            next += bytes;
            used += bytes;
            mallocs++;
            live.add(a);
            sizes.put(a, bytes);
            return a;
        }

        @Override public void free(long address) {
            if (!live.remove(address)) throw new AssertionError("double or foreign free of " + address);
            used -= sizes.remove(address);
            frees++;
        }
    }

    @Test
    void sizeClassesWasteAtMostAnEighth() {
        long prev = 0;
        for (long bytes = 1; bytes < (1L << 34); bytes = bytes * 3 / 2 + 7) {
            long c = CachingAllocator.sizeClass(bytes);
            assertTrue(c >= bytes, "class " + c + " below request " + bytes);
            assertEquals(0, c % 512, "class " + c + " not a multiple of 512");
            if (bytes > 4096) assertTrue(c - bytes <= bytes / 8, "class " + c + " wastes more than 1/8 of " + bytes);
            assertTrue(c >= prev, "classes must grow with the request");
            prev = c;
        }
        assertEquals(0, CachingAllocator.sizeClass(0));
        assertEquals(512, CachingAllocator.sizeClass(1));
        assertEquals(1 << 20, CachingAllocator.sizeClass(1 << 20));
        assertEquals((1 << 20) + (1 << 17), CachingAllocator.sizeClass((1 << 20) + 1));
    }

    @Test
    void releasedBlocksAreReusedWithoutNewDeviceAllocations() {
        FakeDevice dev = new FakeDevice(1L << 30);
        CachingAllocator a = new CachingAllocator(dev);
        // a "training step" allocating the same sizes each time
        long[] sizes = {4000, 123456, 4000, 7 << 20, 100};
        for (int step = 0; step < 10; step++) {
            List<CachingAllocator.Block> blocks = new ArrayList<>();
            for (long s : sizes) blocks.add(a.allocate(s));
            for (CachingAllocator.Block b : blocks) a.release(b);
            assertEquals(0, a.bytesInUse(), "step " + step);
        }
        assertEquals(sizes.length, dev.mallocs, "only the first step may reach the device");
        long expectedPeak = 0;
        for (long s : sizes) expectedPeak += CachingAllocator.sizeClass(s);
        assertEquals(expectedPeak, a.peakBytes());
        assertEquals(expectedPeak, a.bytesCached());
        CachingAllocator.Block kept = a.allocate(4000);
        a.resetPeak();   // a new phase starts its peak from what is live now
        assertEquals(CachingAllocator.sizeClass(4000), a.peakBytes());
        a.release(kept);
    }

    @Test
    void liveBlocksNeverShareAnAddress() {
        CachingAllocator a = new CachingAllocator(new FakeDevice(1L << 30));
        CachingAllocator.Block x = a.allocate(1000);
        CachingAllocator.Block y = a.allocate(1000);
        assertNotEquals(x.address(), y.address());
        a.release(x);
        CachingAllocator.Block z = a.allocate(900);   // same class: gets x's block back
        assertEquals(x.address(), z.address());
        assertEquals(2 * 1024, a.bytesInUse());
    }

    @Test
    void zeroSizeUsesNothing() {
        FakeDevice dev = new FakeDevice(1024);
        CachingAllocator a = new CachingAllocator(dev);
        CachingAllocator.Block b = a.allocate(0);
        assertEquals(0, b.address());
        a.release(b);
        assertEquals(0, dev.mallocs);
        assertEquals(0, a.bytesInUse());
    }

    @Test
    void outOfMemoryFirstReturnsTheCacheThenSaysWhatToDo() {
        FakeDevice dev = new FakeDevice(8 << 20);
        CachingAllocator a = new CachingAllocator(dev);
        CachingAllocator.Block big = a.allocate(6 << 20);
        a.release(big);                                      // cached, still held on the device
        CachingAllocator.Block other = a.allocate(5 << 20);  // another class: only fits once the cache is freed
        assertEquals(1, dev.frees);
        assertEquals(0, a.bytesCached());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.allocate(4 << 20));
        assertTrue(e.getMessage().contains("CUDA out of memory") && e.getMessage().contains("smaller batches"), e.getMessage());
        a.release(other);
        a.releaseCached();
        assertTrue(dev.live.isEmpty(), "everything went back to the device");
    }
}
