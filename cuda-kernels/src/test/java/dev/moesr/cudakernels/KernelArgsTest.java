package dev.moesr.cudakernels;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The kernelParams array the launches pass (host memory only: runs without a GPU): each slot
 * points at its value, aligned as the kernel's parameter type needs.
 */
class KernelArgsTest {
    /** A host pointer at an address, to read back what KernelArgs wrote. */
    private static BytePointer at(long where) {
        return new BytePointer(new Pointer() { { address = where; } });
    }

    @Test
    void valuesSitAtAlignedSlotsInOrder() {
        try (KernelArgs a = new KernelArgs()) {
            long[] dims = {1, 2, 3, 4, 5, 6, 7, 8};
            long[] ptrs = {11, 22, 33};
            a.reset().i32(7).ptr(0xDEADBEEF00L).f32(1.5f).i64(-3).dims(dims).i32(9).ptrs16(ptrs, 1, 2);
            assertEquals(7, a.count());
            assertEquals(7, at(a.slotAddress(0)).getInt(0));
            assertEquals(0, a.slotAddress(1) % 8, "a pointer is 8-byte aligned");
            assertEquals(0xDEADBEEF00L, at(a.slotAddress(1)).getLong(0));
            assertEquals(1.5f, at(a.slotAddress(2)).getFloat(0));
            assertEquals(0, a.slotAddress(3) % 8);
            assertEquals(-3L, at(a.slotAddress(3)).getLong(0));
            for (int i = 0; i < 8; i++) assertEquals(dims[i], at(a.slotAddress(4)).getLong(8L * i), "Dims value " + i);
            assertEquals(9, at(a.slotAddress(5)).getInt(0));
            BytePointer p16 = at(a.slotAddress(6));
            assertEquals(22, p16.getLong(0));
            assertEquals(33, p16.getLong(8));
            for (int i = 2; i < 16; i++) assertEquals(0, p16.getLong(8L * i), "unused pointer " + i);
            // reset starts over at the same place
            a.reset().i64(42);
            assertEquals(1, a.count());
            assertEquals(42L, at(a.slotAddress(0)).getLong(0));
        }
    }

    @Test
    void devicePointersCarryTheirAddress() {
        assertEquals(0x7f0012345600L, DevicePointers.at(0x7f0012345600L).address());
        assertEquals(0x7f0012345600L, DevicePointers.floats(0x7f0012345600L).address());
        assertEquals(0, DevicePointers.at(0).address());
    }

    @Test
    void wrongDimsLengthIsRejected() {
        try (KernelArgs a = new KernelArgs()) {
            assertThrows(IllegalArgumentException.class, () -> a.reset().dims(new long[3]));
        }
    }
}
