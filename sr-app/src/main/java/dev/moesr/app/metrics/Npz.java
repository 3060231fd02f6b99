package dev.moesr.app.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Reader of numpy's {@code .npz} files (a zip of {@code .npy} arrays) for the float arrays the
 * metrics need: dtypes little/big-endian float64 and float32, C or Fortran order, returned as
 * double values in C (row-major) order.
 */
public final class Npz {
    private Npz() {}

    /** An n-dimensional array in row-major order. */
    public record Array(int[] shape, double[] values) {
        public double get(int row, int col) {
            if (shape.length != 2) throw new IllegalArgumentException("get(row, col) needs a 2-d array, this one is " + Arrays.toString(shape));
            return values[row * shape[1] + col];
        }

        public double[][] matrix() {
            if (shape.length != 2) throw new IllegalArgumentException("a 2-d array is needed, got shape " + Arrays.toString(shape));
            double[][] m = new double[shape[0]][shape[1]];
            for (int i = 0; i < shape[0]; i++) System.arraycopy(values, i * shape[1], m[i], 0, shape[1]);
            return m;
        }
    }

    /** All arrays of an npz stream, by name without the ".npy" suffix. */
    public static Map<String, Array> read(InputStream in, String name) throws IOException {
        Map<String, Array> arrays = new LinkedHashMap<>();
        try (ZipInputStream zip = new ZipInputStream(in)) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                if (e.isDirectory()) continue;
                String entry = e.getName();
                String key = entry.endsWith(".npy") ? entry.substring(0, entry.length() - 4) : entry;
                arrays.put(key, readNpy(zip.readAllBytes(), name + ":" + entry));
            }
        }
        if (arrays.isEmpty()) throw new IOException(name + ": not an npz file (no arrays in it)");
        return arrays;
    }

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=]?)([a-z])(\\d+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** One {@code .npy} array (format versions 1, 2 and 3). */
    public static Array readNpy(byte[] bytes, String name) throws IOException {
        if (bytes.length < 10 || (bytes[0] & 0xFF) != 0x93 || !new String(bytes, 1, 5, StandardCharsets.ISO_8859_1).equals("NUMPY")) {
            throw new IOException(name + ": not a .npy array (bad magic)");
        }
        int major = bytes[6];
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen, headerStart;
        if (major == 1) {
            headerLen = b.getShort(8) & 0xFFFF;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            headerLen = b.getInt(8);
            headerStart = 12;
        } else {
            throw new IOException(name + ": .npy format version " + major + " is not supported");
        }
        if (headerStart + headerLen > bytes.length) throw new IOException(name + ": truncated .npy header");
        String header = new String(bytes, headerStart, headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) throw new IOException(name + ": unreadable .npy header " + header.trim());
        String kind = d.group(2);
        int itemSize = Integer.parseInt(d.group(3));
        if (!kind.equals("f") || (itemSize != 4 && itemSize != 8)) {
            throw new IOException(name + ": dtype " + d.group(1) + kind + itemSize + " is not supported (float32 or float64 only)");
        }
        ByteOrder order = d.group(1).equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        boolean fortran = f.group(1).equals("True");
        String[] dims = s.group(1).split(",");
        int[] shape = Arrays.stream(dims).map(String::trim).filter(x -> !x.isEmpty()).mapToInt(Integer::parseInt).toArray();
        long count = 1;
        for (int dim : shape) count *= dim;
        int dataStart = headerStart + headerLen;
        if (dataStart + count * itemSize > bytes.length) {
            throw new IOException(name + ": truncated .npy data (" + (bytes.length - dataStart) + " bytes for " + count + " values)");
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, dataStart, (int) (count * itemSize)).slice().order(order);
        double[] stored = new double[(int) count];
        for (int i = 0; i < count; i++) stored[i] = itemSize == 8 ? data.getDouble(i * 8) : data.getFloat(i * 4);
        return new Array(shape, fortran ? toRowMajor(stored, shape) : stored);
    }

    /** Reorders column-major (first index fastest) values into row-major order. */
    private static double[] toRowMajor(double[] colMajor, int[] shape) {
        int n = colMajor.length, rank = shape.length;
        double[] out = new double[n];
        int[] idx = new int[rank];
        for (int i = 0; i < n; i++) {
            // idx runs through the row-major order; its column-major offset is sum idx[k] * prod(shape[0..k-1])
            int offset = 0, stride = 1;
            for (int k = 0; k < rank; k++) {
                offset += idx[k] * stride;
                stride *= shape[k];
            }
            out[i] = colMajor[offset];
            for (int k = rank - 1; k >= 0; k--) {
                if (++idx[k] < shape[k]) break;
                idx[k] = 0;
            }
        }
        return out;
    }
}
