package dev.moesr.nn.io.torch;

import dev.moesr.nn.io.SafeTensorsFile;

import java.nio.ByteBuffer;

/**
 * The storage classes a checkpoint may name ({@code torch.FloatStorage} ...), with their element
 * sizes and little-endian decoders to float32. The constant names are the safetensors dtype names,
 * so an entry's dtype reads the same whichever reader produced it.
 */
enum StorageType {
    F32(4, "FloatStorage"),
    F16(2, "HalfStorage"),
    BF16(2, "BFloat16Storage"),
    F64(8, "DoubleStorage"),
    I64(8, "LongStorage"),
    I32(4, "IntStorage"),
    I16(2, "ShortStorage"),
    I8(1, "CharStorage"),
    U8(1, "ByteStorage"),
    BOOL(1, "BoolStorage");

    final int bytes;
    final String torchName;

    StorageType(int bytes, String torchName) {
        this.bytes = bytes;
        this.torchName = torchName;
    }

    /** The type named {@code torch.<name>}, or null. */
    static StorageType ofTorchName(String name) {
        for (StorageType t : values()) if (t.torchName.equals(name)) return t;
        return null;
    }

    /** Decodes {@code n} consecutive elements from {@code b} (little-endian, at its position) into {@code out[at..]}. */
    void decode(ByteBuffer b, float[] out, int at, int n) {
        switch (this) {
            case F32 -> b.asFloatBuffer().get(out, at, n);
            case F16 -> { for (int i = 0; i < n; i++) out[at + i] = SafeTensorsFile.halfToFloat(b.getShort()); }
            case BF16 -> { for (int i = 0; i < n; i++) out[at + i] = Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16); }
            case F64 -> { for (int i = 0; i < n; i++) out[at + i] = (float) b.getDouble(); }
            case I64 -> { for (int i = 0; i < n; i++) out[at + i] = (float) b.getLong(); }
            case I32 -> { for (int i = 0; i < n; i++) out[at + i] = (float) b.getInt(); }
            case I16 -> { for (int i = 0; i < n; i++) out[at + i] = (float) b.getShort(); }
            case I8 -> { for (int i = 0; i < n; i++) out[at + i] = (float) b.get(); }
            case U8 -> { for (int i = 0; i < n; i++) out[at + i] = (float) (b.get() & 0xFF); }
            case BOOL -> { for (int i = 0; i < n; i++) out[at + i] = b.get() != 0 ? 1f : 0f; }
        }
    }

    /** Decodes the one element at byte index {@code i} of {@code b} (little-endian). */
    float decodeAt(ByteBuffer b, int i) {
        return switch (this) {
            case F32 -> b.getFloat(i);
            case F16 -> SafeTensorsFile.halfToFloat(b.getShort(i));
            case BF16 -> Float.intBitsToFloat((b.getShort(i) & 0xFFFF) << 16);
            case F64 -> (float) b.getDouble(i);
            case I64 -> (float) b.getLong(i);
            case I32 -> (float) b.getInt(i);
            case I16 -> (float) b.getShort(i);
            case I8 -> (float) b.get(i);
            case U8 -> (float) (b.get(i) & 0xFF);
            case BOOL -> b.get(i) != 0 ? 1f : 0f;
        };
    }
}
