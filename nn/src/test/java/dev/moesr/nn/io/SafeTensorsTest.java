package dev.moesr.nn.io;

import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@SuppressWarnings("try")   // scopes in tests only bound a region
class SafeTensorsTest {
    @TempDir Path dir;

    /** A file made byte by byte: header JSON (unpadded) and data. */
    private Path raw(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path p = dir.resolve("raw.safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    private IllegalArgumentException invalid(Path p) {
        return assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(p));
    }

    @Test
    void roundTripKeepsNamesOrderShapesValuesAndMetadata() throws IOException {
        try (Scope s = Scope.open()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("z.weight", Tensor.of(new float[] {1.5f, -2, Float.MIN_VALUE, Float.MAX_VALUE, Float.NaN, Float.NEGATIVE_INFINITY}, 2, 3));
            in.put("a.scalar", Tensor.scalar(3.25f));
            in.put("empty", Tensor.zeros(0, 4));
            in.put("unicode.é", Tensor.of(new float[] {7}, 1));
            Map<String, String> meta = Map.of("config", "{\"ch\": 128}", "note", "line\nbreak");
            Path p = dir.resolve("model.safetensors");
            SafeTensors.write(p, in, meta);

            SafeTensors.Contents c = SafeTensors.read(p);
            assertEquals(new ArrayList<>(in.keySet()), new ArrayList<>(c.tensors().keySet()));
            for (var e : in.entrySet()) {
                Tensor got = c.tensors().get(e.getKey());
                assertArrayEquals(e.getValue().dims(), got.dims(), e.getKey());
                assertArrayEquals(e.getValue().toFloatArray(), got.toFloatArray(), e.getKey());
            }
            assertEquals(meta, c.metadata());
            long headerLen = ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLen % 8, "header padded to a multiple of 8");
            assertEquals(8 + headerLen + 4 * (6 + 1 + 0 + 1), Files.size(p));
        }
    }

    @Test
    void noMetadataWritesNoMetadataEntry() throws IOException {
        try (Scope s = Scope.open()) {
            Path p = dir.resolve("m.safetensors");
            SafeTensors.write(p, Map.of("x", Tensor.ones(2)), null);
            String text = new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
            assertTrue(!text.contains("__metadata__"), text);
            assertTrue(SafeTensors.read(p).metadata().isEmpty());
        }
    }

    @Test
    void readsHalfBfloatAndIntegerTypesAsFloat32() throws IOException {
        // F16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), +inf; BF16: 1.0, -3.0; I64: 7, -1; U8: 255
        ByteBuffer d = ByteBuffer.allocate(10 + 4 + 16 + 1).order(ByteOrder.LITTLE_ENDIAN);
        d.putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x7BFF).putShort((short) 0x0001).putShort((short) 0x7C00);
        d.putShort((short) 0x3F80).putShort((short) 0xC040);
        d.putLong(7).putLong(-1);
        d.put((byte) 0xFF);
        Path p = raw("{\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[0,10]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[10,14]},"
                + "\"i\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[14,30]},"
                + "\"u\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[30,31]}}", d.array());
        try (Scope s = Scope.open()) {
            Map<String, Tensor> t = SafeTensors.read(p).tensors();
            assertArrayEquals(new float[] {1, -2, 65504, 0x1p-24f, Float.POSITIVE_INFINITY}, t.get("h").toFloatArray());
            assertArrayEquals(new float[] {1, -3}, t.get("b").toFloatArray());
            assertArrayEquals(new float[] {7, -1}, t.get("i").toFloatArray());
            assertArrayEquals(new float[] {255}, t.get("u").toFloatArray());
        }
    }

    @Test
    void everyHalfValueConvertsExactly() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = SafeTensorsFile.halfToFloat((short) bits);
            int exp = (bits >>> 10) & 0x1F, mant = bits & 0x3FF;
            double expected = exp == 0 ? mant * Math.pow(2, -24) : exp == 31 ? (mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN)
                    : (1 + mant / 1024.0) * Math.pow(2, exp - 15);
            if ((bits & 0x8000) != 0) expected = -expected;
            if (Double.isNaN(expected)) assertTrue(Float.isNaN(f), "bits " + bits);
            else assertEquals(expected, f, 0.0, "bits " + Integer.toHexString(bits));
        }
    }

    @Test
    void lazyReadGivesOneTensorAndTheHeader() throws IOException {
        try (Scope s = Scope.open()) {
            Path p = dir.resolve("lazy.safetensors");
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("a", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2));
            in.put("b", Tensor.of(new float[] {5}, 1));
            SafeTensors.write(p, in, Map.of("k", "v"));
            try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
                assertEquals(List.of("a", "b"), new ArrayList<>(f.entries().keySet()));
                assertArrayEquals(new int[] {2, 2}, f.entries().get("a").shape());
                assertEquals("F32", f.entries().get("a").dtype());
                assertArrayEquals(new float[] {5}, f.read("b").toFloatArray());
                var e = assertThrows(IllegalArgumentException.class, () -> f.read("c"));
                assertTrue(e.getMessage().contains("\"c\""), e.getMessage());
            }
        }
    }

    // ---- bad input ----------------------------------------------------------------------------

    @Test
    void truncatedBeforeTheHeaderLength() throws IOException {
        Path p = dir.resolve("short.safetensors");
        Files.write(p, new byte[] {1, 2, 3});
        var e = invalid(p);
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("3 bytes"), e.getMessage());
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).putInt(0);
        Path p = dir.resolve("long.safetensors");
        Files.write(p, b.array());
        var e = invalid(p);
        assertTrue(e.getMessage().contains("header length 1000") && e.getMessage().contains("12 bytes"), e.getMessage());
        // a length with the top bit set (negative as a signed long) is reported unsigned, not as a negative number
        Files.write(p, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).array());
        e = invalid(p);
        assertTrue(e.getMessage().contains("18446744073709551615"), e.getMessage());
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        var e = invalid(raw("{\"a\": [", new byte[0]));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
        e = invalid(raw("[1, 2]", new byte[0]));
        assertTrue(e.getMessage().contains("must be a JSON object"), e.getMessage());
        e = invalid(raw("{\"a\": 1}", new byte[0]));
        assertTrue(e.getMessage().contains("tensor \"a\""), e.getMessage());
    }

    @Test
    void headerThatIsNotUtf8() throws IOException {
        byte[] h = {'{', '"', (byte) 0xC3, '"', ':', '1', '}'};
        ByteBuffer b = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h);
        Path p = dir.resolve("latin.safetensors");
        Files.write(p, b.array());
        assertTrue(invalid(p).getMessage().contains("UTF-8"));
    }

    @Test
    void unknownDtype() throws IOException {
        var e = invalid(raw("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]));
        assertTrue(e.getMessage().contains("F8_E4M3") && e.getMessage().contains("BF16"), e.getMessage());
    }

    @Test
    void offsetsBeyondTheData() throws IOException {
        var e = invalid(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", f32(1, 2, 3)));
        assertTrue(e.getMessage().contains("\"a\"") && e.getMessage().contains("[0, 16]") && e.getMessage().contains("12 bytes")
                && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void offsetsRunningBackwards() throws IOException {
        var e = invalid(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", f32(1, 2)));
        assertTrue(e.getMessage().contains("backwards"), e.getMessage());
    }

    @Test
    void overlappingOffsets() throws IOException {
        var e = invalid(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", f32(1, 2, 3)));
        assertTrue(e.getMessage().contains("overlapping") && e.getMessage().contains("\"a\"") && e.getMessage().contains("\"b\""), e.getMessage());
    }

    @Test
    void shapeThatDoesNotMatchTheOffsets() throws IOException {
        var e = invalid(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", f32(1, 2, 3)));
        assertTrue(e.getMessage().contains("[2, 2]") && e.getMessage().contains("16 bytes") && e.getMessage().contains("span 12"), e.getMessage());
    }

    @Test
    void malformedEntries() throws IOException {
        String[] headers = {
                "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}",                       // no dtype
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",     // negative dim
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}",        // one offset
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}",    // fractional dim
                "{\"a\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}",    // shape not an array
                "{\"__metadata__\":{\"k\":1}}",                                           // non-string metadata
                "{\"__metadata__\":[]}",
        };
        for (String h : headers) {
            var e = invalid(raw(h, f32(1)));
            assertTrue(e.getMessage().startsWith("invalid safetensors file"), h + " -> " + e.getMessage());
        }
    }

    @Test
    void missingFileIsAnIoError() {
        assertThrows(IOException.class, () -> SafeTensors.read(dir.resolve("nope.safetensors")));
    }

    @Test
    void writerRejectsWhatTheFormatCannotHold() {
        try (Scope s = Scope.open()) {
            Tensor ok = Tensor.ones(1);
            assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(dir.resolve("x"), Map.of("__metadata__", ok), null));
            assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(dir.resolve("x"), Map.of("", ok), null));
            Tensor released = Tensor.ones(1);
            released.release();
            assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(dir.resolve("x"), Map.of("r", released), null));
            assertThrows(IOException.class, () -> SafeTensors.write(dir.resolve("no/such/folder/x"), Map.of("a", ok), null));
        }
    }

    /** A map whose data pass meets a released tensor after the header was made: the write fails half way. */
    private static final class FailsWhileWriting extends AbstractMap<String, Tensor> {
        final Map<String, Tensor> good;
        final Tensor released;

        FailsWhileWriting(Map<String, Tensor> good, Tensor released) {
            this.good = good;
            this.released = released;
        }

        @Override public Set<Entry<String, Tensor>> entrySet() { return good.entrySet(); }

        @Override public Collection<Tensor> values() {
            List<Tensor> v = new ArrayList<>(good.values());
            v.set(v.size() - 1, released);
            return v;
        }
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporaries() throws IOException {
        try (Scope s = Scope.open()) {
            Path p = dir.resolve("ckpt.safetensors");
            SafeTensors.write(p, Map.of("w", Tensor.of(new float[] {1, 2}, 2)), Map.of("v", "1"));
            byte[] before = Files.readAllBytes(p);
            Map<String, Tensor> next = new LinkedHashMap<>();
            next.put("w", Tensor.of(new float[] {3, 4}, 2));
            next.put("big", Tensor.zeros(1000));
            Tensor gone = Tensor.zeros(1000);
            gone.release();
            assertThrows(IllegalStateException.class, () -> SafeTensors.write(p, new FailsWhileWriting(next, gone), Map.of("v", "2")));
            assertArrayEquals(before, Files.readAllBytes(p), "the old checkpoint is intact");
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of("ckpt.safetensors"), files.map(f -> f.getFileName().toString()).toList(), "no temporary file is left");
            }
            // a successful write replaces the file
            SafeTensors.write(p, next, Map.of("v", "2"));
            assertEquals("2", SafeTensors.read(p).metadata().get("v"));
            assertEquals(Arrays.toString(new float[] {3, 4}), Arrays.toString(SafeTensors.read(p).tensors().get("w").toFloatArray()));
        }
    }
}
