package dev.moesr.nn.io;

import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** F16 on write: the conversion against a brute-force nearest-value reference, and the file round trip. */
class HalfPrecisionTest {
    @TempDir Path dir;

    /** Every non-negative finite half, in increasing order (their bit patterns sort as their values do). */
    private static final double[] HALVES = new double[0x7C00];
    static {
        for (int h = 0; h < HALVES.length; h++) HALVES[h] = SafeTensorsFile.halfToFloat((short) h);
    }

    /** The reference: the nearest half in double arithmetic, ties to the even bit pattern, by search over all halves. */
    private static short nearestHalf(float f) {
        double a = Math.abs((double) f);
        int sign = (Float.floatToRawIntBits(f) >>> 16) & 0x8000;
        int i = Arrays.binarySearch(HALVES, a);
        int h;
        if (i >= 0) {
            h = i;
        } else {
            int above = -i - 1;
            if (above == HALVES.length) {   // beyond 65504: rounds to 65504 below the midpoint to infinity, else infinity
                h = a - HALVES[above - 1] < 65536.0 - a ? above - 1 : 0x7C00;   // 65536 is where the next half would be
            } else {
                double lo = a - HALVES[above - 1], hi = HALVES[above] - a;
                h = lo < hi ? above - 1 : hi < lo ? above : ((above - 1) % 2 == 0 ? above - 1 : above);
            }
        }
        return (short) (sign | h);
    }

    @Test
    void everyHalfValueRoundTripsExactly() {
        for (int h = 0; h < 0x10000; h++) {
            float f = SafeTensorsFile.halfToFloat((short) h);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(SafeTensorsFile.halfToFloat(SafeTensors.floatToHalf(f))), "NaN stays NaN");
            } else {
                assertEquals((short) h, SafeTensors.floatToHalf(f), "half bits 0x" + Integer.toHexString(h));
            }
        }
    }

    @Test
    void roundsToTheNearestHalfWithTiesToEven() {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(11);
        for (int k = 0; k < 200_000; k++) {
            // log-uniform magnitudes from below the smallest subnormal to above the largest half
            float f = (float) (Math.pow(2, -26 + 43 * rng.nextDouble()) * (rng.nextDouble() < 0.5 ? -1 : 1));
            assertEquals(nearestHalf(f), SafeTensors.floatToHalf(f), "for " + f);
        }
        for (int h = 0; h < 0x7BFF; h++) {   // exact midpoints between neighbours: ties go to the even pattern
            float mid = (float) ((HALVES[h] + HALVES[h + 1]) / 2);
            assertEquals((short) (h % 2 == 0 ? h : h + 1), SafeTensors.floatToHalf(mid), "midpoint above half 0x" + Integer.toHexString(h));
        }
        assertEquals((short) 0x7C00, SafeTensors.floatToHalf(70000f));
        assertEquals((short) 0xFC00, SafeTensors.floatToHalf(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0x8000, SafeTensors.floatToHalf(-0f));
    }

    @Test
    void halfFilesReadBackAsTheRoundedValues() throws IOException {
        try (Scope s = Scope.open()) {
            float[] v = {1f, -0.1f, 3.14159f, 1e-6f, 65504f, 0f};
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("w", Tensor.of(v, 2, 3));
            Path p = dir.resolve("half.safetensors");
            SafeTensors.write(p, in, Map.of("k", "v"), true);
            try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
                assertEquals("F16", f.entries().get("w").dtype());
                assertEquals("v", f.metadata().get("k"));
            }
            float[] back = SafeTensors.read(p).tensors().get("w").toFloatArray();
            float[] expected = new float[v.length];
            for (int i = 0; i < v.length; i++) expected[i] = SafeTensorsFile.halfToFloat(nearestHalf(v[i]));
            assertArrayEquals(expected, back);
            assertEquals(8 + headerLength(p) + 2L * v.length, Files.size(p));
        }
    }

    @Test
    void aValueBeyondTheHalfRangeIsRefusedAndNothingIsWritten() throws IOException {
        try (Scope s = Scope.open()) {
            Path p = dir.resolve("big.safetensors");
            Map<String, Tensor> in = Map.of("counter", Tensor.of(new float[] {1e6f}, 1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(p, in, null, true));
            assertTrue(e.getMessage().contains("counter") && e.getMessage().contains("F32"), e.getMessage());
            assertFalse(Files.exists(p));
            try (var files = Files.list(dir)) {
                assertEquals(0, files.count(), "no temporary file left behind");
            }
        }
    }

    private static long headerLength(Path p) throws IOException {
        byte[] b = Files.readAllBytes(p);
        return java.nio.ByteBuffer.wrap(b, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
