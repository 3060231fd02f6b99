package dev.moesr.nn.io;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reading and writing safetensors files (https://github.com/huggingface/safetensors): our own
 * implementation of the format, float32 on write; F32, F16, BF16 (and F64 and integer types) on
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
        byte[] header = header(tensors, metadata);
        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new IOException("cannot write " + path + ": folder " + dir + " does not exist");
        Path tmp = AtomicFiles.newTemporarySibling(target);
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(header));
                for (Tensor t : tensors.values()) writeData(ch, t);
                ch.force(true);
            }
            AtomicFiles.replace(tmp, target);
            moved = true;
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
    }

    /** The header JSON, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
        Map<String, Object> json = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            for (var e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) throw new IllegalArgumentException("safetensors metadata keys and values must not be null: " + e);
            }
            json.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (var e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null || name.isEmpty() || name.equals("__metadata__")) {
                throw new IllegalArgumentException("tensor name '" + name + "' cannot be used in a safetensors file");
            }
            if (t.isComplex()) throw new IllegalArgumentException("tensor '" + name + "' is complex " + t.shape() + "; save its real() and imag() parts");
            if (t.isReleased()) throw new IllegalArgumentException("tensor '" + name + "' " + t.shape() + " was released and cannot be saved");
            List<Long> shape = new ArrayList<>();
            for (int d : t.dims()) shape.add((long) d);
            long bytes = t.numel() * 4;
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", "F32");
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

    private static void writeData(FileChannel ch, Tensor t) throws IOException {
        float[] values = t.toFloatArray();
        ByteBuffer buf = ByteBuffer.allocate(Math.min(values.length, CHUNK_FLOATS) * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at < values.length; at += CHUNK_FLOATS) {
            int n = Math.min(CHUNK_FLOATS, values.length - at);
            buf.clear();
            buf.asFloatBuffer().put(values, at, n);
            buf.limit(n * 4);
            writeFully(ch, buf);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
