package dev.moesr.nn.io;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An open safetensors file: the header is read and validated on {@link #open}, tensors are read
 * one at a time on request (converted to float32), so a large checkpoint never has to be in
 * memory at once. Format: an 8-byte little-endian header length N, N bytes of JSON
 * {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}},
 * then the little-endian data, offsets counted from the end of the header.
 */
public final class SafeTensorsFile implements TensorSource {
    /** The largest header accepted (the reference implementation's limit). */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    private static final int CHUNK_BYTES = 1 << 24;

    /** One tensor of the header: dtype name, shape and byte range within the data section. */
    public record Entry(String dtype, int[] shape, long begin, long end) {
        public long numel() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }

        @Override public String toString() { return dtype + Arrays.toString(shape) + " at [" + begin + ", " + end + ")"; }
    }

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafeTensorsFile(Path path, FileChannel channel, long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Opens {@code path} and validates its header; a malformed file gives an IllegalArgumentException that says what is wrong. */
    public static SafeTensorsFile open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) {
                throw bad(path, "the file is truncated: it has " + size + " bytes, but a safetensors file starts with an 8-byte header length");
            }
            ByteBuffer lenBuf = readFully(ch, 0, 8, path).order(ByteOrder.LITTLE_ENDIAN);
            long headerLen = lenBuf.getLong();
            if (headerLen < 0 || headerLen > size - 8) {
                throw bad(path, "the header length " + Long.toUnsignedString(headerLen) + " goes beyond the end of the file (" + size
                        + " bytes): the file is truncated or not a safetensors file");
            }
            if (headerLen > MAX_HEADER_BYTES) {
                throw bad(path, "the header of " + headerLen + " bytes is larger than the " + MAX_HEADER_BYTES + "-byte limit");
            }
            ByteBuffer headerBytes = readFully(ch, 8, (int) headerLen, path);
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(headerBytes).toString();
            } catch (CharacterCodingException e) {
                throw bad(path, "the header is not valid UTF-8");
            }
            Object json;
            try {
                json = Json.parse(text);
            } catch (IllegalArgumentException e) {
                throw bad(path, "the header is not valid JSON: " + e.getMessage());
            }
            long dataStart = 8 + headerLen;
            Header h = parseHeader(json, size - dataStart, path);
            return new SafeTensorsFile(path, ch, dataStart, h.entries, h.metadata);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private record Header(Map<String, Entry> entries, Map<String, String> metadata) {}

    private static Header parseHeader(Object json, long dataBytes, Path path) {
        if (!(json instanceof Map<?, ?> top)) throw bad(path, "the header must be a JSON object, got " + kind(json));
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (var e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map<?, ?> meta)) throw bad(path, "__metadata__ must be an object of strings, got " + kind(e.getValue()));
                for (var m : meta.entrySet()) {
                    if (!(m.getValue() instanceof String v)) {
                        throw bad(path, "__metadata__ value of \"" + m.getKey() + "\" must be a string, got " + kind(m.getValue()));
                    }
                    metadata.put((String) m.getKey(), v);
                }
                continue;
            }
            entries.put(name, parseEntry(name, e.getValue(), dataBytes, path));
        }
        checkNoOverlap(entries, path);
        return new Header(Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata));
    }

    private static Entry parseEntry(String name, Object v, long dataBytes, Path path) {
        String where = "tensor \"" + name + "\"";
        if (!(v instanceof Map<?, ?> info)) throw bad(path, where + " must be described by an object, got " + kind(v));
        if (!(info.get("dtype") instanceof String dtype)) throw bad(path, where + " needs a string \"dtype\"");
        DTypeCodec codec = DTypeCodec.of(dtype);
        if (codec == null) {
            throw bad(path, where + " has dtype " + dtype + ", which cannot be read: supported are " + DTypeCodec.supportedNames());
        }
        long[] dims = longs(info.get("shape"), where + " \"shape\"", -1, path);
        long[] offsets = longs(info.get("data_offsets"), where + " \"data_offsets\"", 2, path);
        int[] shape = new int[dims.length];
        long numel = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] > Integer.MAX_VALUE) throw bad(path, where + " has dimension " + dims[i] + ", larger than this library supports");
            shape[i] = (int) dims[i];
            try {
                numel = Math.multiplyExact(numel, dims[i]);
            } catch (ArithmeticException ex) {
                throw bad(path, where + " has a shape " + Arrays.toString(dims) + " too large to address");
            }
        }
        long begin = offsets[0], end = offsets[1];
        if (begin > end) throw bad(path, where + " has data_offsets [" + begin + ", " + end + "] that run backwards");
        if (end > dataBytes) {
            throw bad(path, where + " has data_offsets [" + begin + ", " + end + "] beyond the data section of " + dataBytes
                    + " bytes: the file is truncated or its header is wrong");
        }
        long expected;
        try {
            expected = Math.multiplyExact(numel, codec.bytes);
        } catch (ArithmeticException ex) {
            throw bad(path, where + " is too large to address");
        }
        if (end - begin != expected) {
            throw bad(path, where + " of dtype " + dtype + " and shape " + Arrays.toString(shape) + " needs " + expected
                    + " bytes, but its data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new Entry(dtype, shape, begin, end);
    }

    private static long[] longs(Object v, String what, int length, Path path) {
        if (!(v instanceof List<?> list)) throw bad(path, what + " must be an array of integers, got " + kind(v));
        if (length >= 0 && list.size() != length) throw bad(path, what + " must have " + length + " entries, got " + list.size());
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long x) || x < 0) throw bad(path, what + " must hold integers >= 0, got " + list);
            out[i] = x;
        }
        return out;
    }

    private static void checkNoOverlap(Map<String, Entry> entries, Path path) {
        List<Map.Entry<String, Entry>> sorted = new ArrayList<>(entries.entrySet());
        sorted.removeIf(e -> e.getValue().begin == e.getValue().end);
        sorted.sort(Comparator.comparingLong(e -> e.getValue().begin));
        for (int i = 1; i < sorted.size(); i++) {
            var prev = sorted.get(i - 1);
            var cur = sorted.get(i);
            if (cur.getValue().begin < prev.getValue().end) {
                throw bad(path, "tensors \"" + prev.getKey() + "\" " + Arrays.asList(prev.getValue().begin, prev.getValue().end) + " and \""
                        + cur.getKey() + "\" " + Arrays.asList(cur.getValue().begin, cur.getValue().end) + " have overlapping data_offsets");
            }
        }
    }

    private static String kind(Object v) {
        if (v == null) return "null";
        if (v instanceof Map) return "an object";
        if (v instanceof List) return "an array";
        if (v instanceof String) return "a string";
        if (v instanceof Boolean) return "a boolean";
        return "a number";
    }

    static IllegalArgumentException bad(Path path, String what) {
        return new IllegalArgumentException("invalid safetensors file " + path + ": " + what);
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int count, Path path) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(count);
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position + buf.position());
            if (n < 0) throw new EOFException("safetensors file " + path + " ended early (truncated while being read?)");
        }
        return buf.flip();
    }

    // ---- access -------------------------------------------------------------------------------

    @Override public Path path() { return path; }

    /** The tensors of the header by name, in the header's order. */
    public Map<String, Entry> entries() { return entries; }

    /** The header's string metadata (empty when it has none). */
    public Map<String, String> metadata() { return metadata; }

    /** Reads tensor {@code name} into a new float32 CPU tensor. */
    public Tensor read(String name) throws IOException { return read(name, Device.CPU); }

    /** Reads tensor {@code name} as float32 onto {@code device}; the tensor belongs to the scope open now. */
    @Override public Tensor read(String name, Device device) throws IOException {
        float[] out = readFloats(name);
        return Tensor.wrap(Backends.get(device).upload(out), Shape.of(entries.get(name).shape), DType.F32);
    }

    /** Reads the values of tensor {@code name}, converted to float32, in row-major order. */
    @Override public float[] readFloats(String name) throws IOException {
        Entry e = entry(name);
        long numel = e.numel();
        if (numel > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("tensor \"" + name + "\" of " + numel + " elements is too large for one Java array");
        DTypeCodec codec = DTypeCodec.of(e.dtype);
        float[] out = new float[(int) numel];
        long pos = dataStart + e.begin;
        int done = 0;
        while (done < out.length) {
            int elems = Math.min(out.length - done, CHUNK_BYTES / codec.bytes);
            ByteBuffer buf = readFully(channel, pos, elems * codec.bytes, path).order(ByteOrder.LITTLE_ENDIAN);
            codec.decode(buf, out, done, elems);
            done += elems;
            pos += (long) elems * codec.bytes;
        }
        return out;
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException("no tensor named \"" + name + "\" in " + path + " (it has " + entries.size() + " tensors)");
        return e;
    }

    @Override public Set<String> names() { return entries.keySet(); }

    @Override public int[] shape(String name) { return entry(name).shape().clone(); }

    @Override public String dtype(String name) { return entry(name).dtype(); }

    @Override public String kind() { return "safetensors"; }

    @Override public void close() throws IOException { channel.close(); }

    /** Byte decoders of the dtypes this reader converts to float32. */
    enum DTypeCodec {
        F32(4), F16(2), BF16(2), F64(8), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

        final int bytes;

        DTypeCodec(int bytes) { this.bytes = bytes; }

        static DTypeCodec of(String name) {
            for (DTypeCodec c : values()) if (c.name().equals(name)) return c;
            return null;
        }

        static String supportedNames() { return Arrays.toString(values()); }

        void decode(ByteBuffer b, float[] out, int at, int n) {
            switch (this) {
                case F32 -> b.asFloatBuffer().get(out, at, n);
                case F16 -> { for (int i = 0; i < n; i++) out[at + i] = halfToFloat(b.getShort()); }
                case BF16 -> { for (int i = 0; i < n; i++) out[at + i] = Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16); }
                case F64 -> { for (int i = 0; i < n; i++) out[at + i] = (float) b.getDouble(); }
                case I64 -> { for (int i = 0; i < n; i++) out[at + i] = (float) b.getLong(); }
                case I32 -> { for (int i = 0; i < n; i++) out[at + i] = (float) b.getInt(); }
                case I16 -> { for (int i = 0; i < n; i++) out[at + i] = (float) b.getShort(); }
                case I8 -> { for (int i = 0; i < n; i++) out[at + i] = (float) b.get(); }
                case U8, BOOL -> { for (int i = 0; i < n; i++) out[at + i] = (float) (b.get() & 0xFF); }
            }
        }
    }

    /** IEEE 754 binary16 to float32, exactly (every half value is a float). */
    public static float halfToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits >>> 15) << 31;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));   // inf, NaN
        if (exp == 0) {
            float v = mant * 0x1p-24f;   // zero or subnormal: exact
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
