package dev.moesr.nn.io;

import dev.moesr.nn.io.torch.TorchCheckpoint;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A file of named tensors, read one tensor at a time (converted to float32) so that a file larger
 * than the memory can be used: a safetensors file ({@link SafeTensorsFile}) or a PyTorch
 * checkpoint written by {@code torch.save} ({@link TorchCheckpoint}: a flat state dict, or a
 * Lightning checkpoint whose {@code state_dict} is used). {@link #open} tells them apart by their
 * first bytes.
 */
public interface TensorSource extends AutoCloseable {
    Path path();

    /** The tensor names, in the file's order. */
    Set<String> names();

    /** The shape of tensor {@code name}; an IllegalArgumentException when there is none. */
    int[] shape(String name);

    /** The stored dtype of tensor {@code name}, as safetensors names it (F32, F16, BF16, F64, I64, ...). */
    String dtype(String name);

    /** The values of tensor {@code name} converted to float32, in row-major order. */
    float[] readFloats(String name) throws IOException;

    /** Tensor {@code name} as float32 on {@code device}; the tensor belongs to the scope open now. */
    Tensor read(String name, Device device) throws IOException;

    /** Every tensor, in the file's order, onto {@code device}; on failure the ones already read are released. */
    default Map<String, Tensor> readAll(Device device) throws IOException {
        Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        try {
            for (String name : names()) out.put(name, read(name, device));
        } catch (IOException | RuntimeException ex) {
            for (Tensor t : out.values()) t.release();
            throw ex;
        }
        return out;
    }

    /** What kind of file this is, for messages ("safetensors", "PyTorch checkpoint"). */
    String kind();

    @Override void close() throws IOException;

    /**
     * Opens a safetensors file or a PyTorch checkpoint, whichever {@code path} holds (its first
     * bytes decide: a zip archive or a pickle is a PyTorch checkpoint, an 8-byte length followed
     * by '{' a safetensors file; the extension only when they say neither). A malformed file gives
     * an IllegalArgumentException saying what is wrong.
     */
    static TensorSource open(Path path) throws IOException {
        byte[] head;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(9);
            while (b.hasRemaining() && ch.read(b) >= 0) { }
            head = java.util.Arrays.copyOf(b.array(), b.position());
        }
        boolean zip = head.length >= 2 && head[0] == 'P' && head[1] == 'K';
        boolean pickle = head.length >= 1 && (head[0] & 0xFF) == 0x80;
        if (zip || pickle) return TorchCheckpoint.open(path);
        if (head.length >= 9 && head[8] == '{') return SafeTensorsFile.open(path);
        String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".safetensors")) return SafeTensorsFile.open(path);
        if (name.endsWith(".ckpt") || name.endsWith(".pth") || name.endsWith(".pt") || name.endsWith(".bin")) return TorchCheckpoint.open(path);
        throw new IllegalArgumentException(path + " is neither a safetensors file nor a PyTorch checkpoint (torch.save): "
                + (head.length == 0 ? "it is empty" : "its first bytes are neither a zip archive, a pickle nor a safetensors header"));
    }
}
