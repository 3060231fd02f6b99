package dev.moesr.nn.io;

import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file one tensor at a time, so a model larger than the memory can be
 * converted or assembled: the header is written first from the names, shapes and dtype, then each
 * tensor's values as the caller produces them, in the header's order. The data goes to a temporary
 * file in the target's folder that {@link #commit} moves over the target; {@link #close} without a
 * commit (an error on the way) deletes it, so a half-written file never appears and an existing
 * one is never damaged.
 *
 * <pre>
 *   try (SafeTensorsWriter w = SafeTensorsWriter.open(path, shapes, metadata, false)) {
 *       for (String name : shapes.keySet()) w.write(name, valuesOf(name));
 *       w.commit();
 *   }
 * </pre>
 */
public final class SafeTensorsWriter implements AutoCloseable {
    private final Path target, tmp;
    private final FileChannel channel;
    private final boolean half;
    private final List<String> names;
    private final Map<String, int[]> shapes;
    private int next;
    private boolean committed, closed;

    private SafeTensorsWriter(Path target, Path tmp, FileChannel channel, boolean half, Map<String, int[]> shapes) {
        this.target = target;
        this.tmp = tmp;
        this.channel = channel;
        this.half = half;
        this.shapes = shapes;
        this.names = new ArrayList<>(shapes.keySet());
    }

    /**
     * Starts {@code path} with a header for {@code shapes} (in their order), stored as F16 when
     * {@code half}, else F32, and {@code metadata} (may be null or empty) as {@code __metadata__}.
     */
    public static SafeTensorsWriter open(Path path, Map<String, int[]> shapes, Map<String, String> metadata, boolean half) throws IOException {
        Map<String, int[]> copy = new LinkedHashMap<>();
        for (var e : shapes.entrySet()) copy.put(e.getKey(), e.getValue().clone());
        byte[] header = SafeTensors.header(copy, metadata, half ? "F16" : "F32", half ? 2 : 4);
        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new IOException("cannot write " + path + ": folder " + dir + " does not exist");
        Path tmp = AtomicFiles.newTemporarySibling(target);
        FileChannel ch = null;
        try {
            ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(header));
            return new SafeTensorsWriter(target, tmp, ch, half, copy);
        } catch (IOException | RuntimeException e) {
            if (ch != null) ch.close();
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** The name the next {@link #write} must give, or null when every tensor was written. */
    public String nextName() { return next < names.size() ? names.get(next) : null; }

    /** Writes the values (row-major, as many as the header's shape holds) of {@code name}, which must be the next in the header. */
    public void write(String name, float[] values) throws IOException {
        if (closed || committed) throw new IllegalStateException("the writer of " + target + " is " + (committed ? "committed" : "closed"));
        String expected = nextName();
        if (!name.equals(expected)) {
            throw new IllegalStateException("tensor '" + name + "' written out of order: the header's next tensor is " + (expected == null ? "none" : "'" + expected + "'"));
        }
        long numel = 1;
        for (int d : shapes.get(name)) numel *= d;
        if (values.length != numel) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + values.length + " values, its header shape " + Arrays.toString(shapes.get(name)) + " holds " + numel);
        }
        if (half) SafeTensors.writeHalf(channel, name, values);
        else SafeTensors.writeFloats(channel, values);
        next++;
    }

    /** Writes a (real) tensor's values; see {@link #write(String, float[])}. */
    public void write(String name, Tensor t) throws IOException {
        if (t.isComplex()) throw new IllegalArgumentException("tensor '" + name + "' is complex " + t.shape() + "; save its real() and imag() parts");
        if (!Arrays.equals(t.dims(), shapes.get(name) == null ? t.dims() : shapes.get(name))) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + t.shape() + ", its header says " + Arrays.toString(shapes.get(name)));
        }
        write(name, t.toFloatArray());
    }

    /** Checks that every tensor was written, flushes to the disk and moves the file into place. */
    public void commit() throws IOException {
        if (closed || committed) throw new IllegalStateException("the writer of " + target + " is " + (committed ? "committed" : "closed"));
        if (next < names.size()) {
            throw new IllegalStateException(names.size() - next + " of " + names.size() + " tensors were not written, the first '" + names.get(next) + "'");
        }
        channel.force(true);
        channel.close();
        AtomicFiles.replace(tmp, target);
        committed = true;
    }

    /** Without a commit, abandons the file: the temporary file is deleted and the target untouched. */
    @Override public void close() throws IOException {
        if (closed) return;
        closed = true;
        if (committed) return;
        try {
            channel.close();
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
