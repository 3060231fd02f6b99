package dev.moesr.nn.io;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reading and writing safetensors files (https://github.com/huggingface/safetensors): our own
 * implementation of the format, F32 or F16 on write; F32, F16, BF16 (and F64 and integer types) on
 * read, converted to float32.
 */
public final class SafeTensors {
    private static final int CHUNK_FLOATS = 1 << 22;

    private SafeTensors() {}

    /** Everything in a file: tensors in header order, and the string metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    /** Reads a whole file to CPU tensors (which belong to the scope open now). */
    public static Contents read(Path path) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(path)) {
            return new Contents(f.readAll(Device.CPU), f.metadata());
        }
    }

    /**
     * Writes {@code tensors} (real, any device) as F32 in map order, with {@code metadata} (may be
     * null or empty) as {@code __metadata__}. The file appears atomically: the data goes to a
     * temporary file in the same folder that is then moved over {@code path}, so a crash or an
     * error never leaves a half-written file (and never damages an existing one).
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        write(path, tensors, metadata, false);
    }

    /**
     * As {@link #write(Path, Map, Map)}, with every tensor stored as IEEE binary16 when {@code half}
     * (rounded to nearest, ties to even; beyond +-65504 an error, not infinity): half the bytes, for
     * shipping weights. Reading gives float32 back, each value within half a unit in the last place of F16.
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata, boolean half) throws IOException {
        Map<String, int[]> shapes = shapes(tensors);
        try (SafeTensorsWriter w = SafeTensorsWriter.open(path, shapes, metadata, half)) {
            var names = tensors.keySet().iterator();
            for (Tensor t : tensors.values()) w.write(names.next(), t.toFloatArray());
            w.commit();
        }
    }

    /** The names and shapes of {@code tensors}, after checking that each can be stored. */
    private static Map<String, int[]> shapes(Map<String, Tensor> tensors) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (var e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (t.isComplex()) throw new IllegalArgumentException("tensor '" + name + "' is complex " + t.shape() + "; save its real() and imag() parts");
            if (t.isReleased()) throw new IllegalArgumentException("tensor '" + name + "' " + t.shape() + " was released and cannot be saved");
            shapes.put(name, t.dims());
        }
        return shapes;
    }

    /** The header JSON, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
        return header(shapes(tensors), metadata, "F32", 4);
    }

    /** The header JSON for tensors of these names and shapes, every one of {@code dtype}, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(Map<String, int[]> shapes, Map<String, String> metadata, String dtype, int bytesPerValue) {
        Map<String, Object> json = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            for (var e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) throw new IllegalArgumentException("safetensors metadata keys and values must not be null: " + e);
            }
            json.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (var e : shapes.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty() || name.equals("__metadata__")) {
                throw new IllegalArgumentException("tensor name '" + name + "' cannot be used in a safetensors file");
            }
            List<Long> shape = new ArrayList<>();
            long numel = 1;
            for (int d : e.getValue()) {
                if (d < 0) throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension " + d);
                shape.add((long) d);
                numel *= d;
            }
            long bytes = numel * bytesPerValue;
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", dtype);
            info.put("shape", shape);
            info.put("data_offsets", List.of(offset, offset + bytes));
            json.put(name, info);
            offset += bytes;
        }
        byte[] raw = Json.write(json).getBytes(StandardCharsets.UTF_8);
        int padded = (raw.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(raw, 0, out, 0, raw.length);
        for (int i = raw.length; i < padded; i++) out[i] = ' ';
        return out;
    }

    static void writeFloats(FileChannel ch, float[] values) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(Math.min(values.length, CHUNK_FLOATS) * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at < values.length; at += CHUNK_FLOATS) {
            int n = Math.min(CHUNK_FLOATS, values.length - at);
            buf.clear();
            buf.asFloatBuffer().put(values, at, n);
            buf.limit(n * 4);
            writeFully(ch, buf);
        }
    }

    static void writeHalf(FileChannel ch, String name, float[] values) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(Math.min(values.length, CHUNK_FLOATS) * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at < values.length; at += CHUNK_FLOATS) {
            int n = Math.min(CHUNK_FLOATS, values.length - at);
            buf.clear();
            for (int i = 0; i < n; i++) {
                float v = values[at + i];
                if (Float.isFinite(v) && Math.abs(v) > HALF_MAX) {
                    throw new IllegalArgumentException("tensor '" + name + "' holds " + v + ", beyond the F16 range (+-65504); save it as F32");
                }
                buf.putShort(floatToHalf(v));
            }
            buf.flip();
            writeFully(ch, buf);
        }
    }

    /** The largest finite binary16 value. */
    static final float HALF_MAX = 65504f;

    /** float32 to IEEE 754 binary16, rounded to nearest with ties to even; NaN stays NaN, overflow gives infinity. */
    static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7FFFFF;
        if (exp == 0xFF) return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));   // inf, NaN (quiet, payload kept where it fits)
        int e = exp - 127 + 15;                        // the half's biased exponent
        if (e >= 0x1F) return (short) (sign | 0x7C00); // too large: infinity
        if (e <= 0) {                                  // a half subnormal (or zero): value = m * 2^-24
            if (e < -10) return (short) sign;          // below half the smallest subnormal: zero
            int m = mant | 0x800000;                   // the implicit bit
            int shift = 14 - e;                        // from 23 fraction bits to the subnormal's 2^-24 units
            int half = m >>> shift;
            int rest = m & ((1 << shift) - 1), midpoint = 1 << (shift - 1);
            if (rest > midpoint || (rest == midpoint && (half & 1) != 0)) half++;
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rest = mant & 0x1FFF;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) half++;   // a carry into the exponent is still right (up to infinity)
        return (short) (sign | half);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
