package dev.moesr.cudakernels;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernels of native/*.cu, compiled by nvcc during the build into one fatbin that ships in
 * this jar, and a reader of the fatbin container's headers (to check what it holds without a
 * GPU or cuobjdump).
 *
 * <p>Container layout (little endian), as nvcc 13 writes it: a 16-byte header (magic
 * 0xBA55ED50, u16 version, u16 header size, u64 size of the entries), then entries, each a
 * header (u16 kind: 1 PTX, 2 ELF/SASS; u16 version; u32 header size; u64 payload size; ...;
 * u32 SM version at byte 28, e.g. 90 for sm_90) followed by its payload.
 */
public final class Fatbin {
    /** The resource name, next to this class. */
    public static final String RESOURCE = "kernels.fatbin";
    static final int MAGIC = 0xBA55ED50;

    public enum Kind { PTX, SASS, OTHER }

    /** One compiled image: SASS for sm_XY or PTX for compute_XY; its payload at {@code payloadOffset} of the fatbin. */
    public record Entry(Kind kind, int sm, long payloadOffset, long payloadBytes) {
        @Override public String toString() {
            return (kind == Kind.PTX ? "compute_" : kind == Kind.SASS ? "sm_" : "?_") + sm + " " + kind + " (" + payloadBytes + " bytes)";
        }
    }

    private Fatbin() {}

    /** The fatbin bytes from the class path, or null when the build skipped nvcc. */
    public static byte[] loadResource() {
        try (InputStream in = Fatbin.class.getResourceAsStream(RESOURCE)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + RESOURCE + " from the cuda-kernels jar: " + e.getMessage(), e);
        }
    }

    /** The entries of a fatbin; a clear error when the bytes are not one. */
    public static List<Entry> parse(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 16 || b.getInt(0) != MAGIC) {
            throw new IllegalArgumentException("not a CUDA fatbin (" + bytes.length + " bytes, no 0xBA55ED50 magic at the start)");
        }
        int headerSize = Short.toUnsignedInt(b.getShort(6));
        long size = b.getLong(8);
        long end = headerSize + size;
        if (end > bytes.length) {
            throw new IllegalArgumentException("truncated fatbin: header says " + end + " bytes, have " + bytes.length);
        }
        List<Entry> out = new ArrayList<>();
        long off = headerSize;
        while (off + 32 <= end) {
            int p = (int) off;
            int kind = Short.toUnsignedInt(b.getShort(p));
            long entryHeader = Integer.toUnsignedLong(b.getInt(p + 4));
            long payload = b.getLong(p + 8);
            int sm = b.getInt(p + 28);
            if (entryHeader < 32 || payload < 0 || off + entryHeader + payload > end) {
                throw new IllegalArgumentException("corrupt fatbin entry at byte " + off);
            }
            out.add(new Entry(kind == 1 ? Kind.PTX : kind == 2 ? Kind.SASS : Kind.OTHER, sm, off + entryHeader, payload));
            off += entryHeader + payload;
        }
        return out;
    }
}
