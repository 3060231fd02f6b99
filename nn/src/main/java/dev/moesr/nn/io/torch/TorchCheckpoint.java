package dev.moesr.nn.io.torch;

import dev.moesr.nn.io.torch.Py.Global;
import dev.moesr.nn.io.torch.Py.PyDict;
import dev.moesr.nn.io.torch.Py.PyList;
import dev.moesr.nn.io.torch.Py.StorageRef;
import dev.moesr.nn.io.torch.Py.TensorRef;
import dev.moesr.nn.io.torch.Py.Tuple;
import dev.moesr.nn.io.TensorSource;
import dev.moesr.nn.io.torch.Unpickler.PickleError;
import dev.moesr.tensor.DType;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * An open PyTorch checkpoint (a file written by {@code torch.save}), read without Python and
 * without running anything from the file. The pickle is interpreted by a restricted unpickler that
 * knows only the globals a state dict needs and refuses every other one (such as {@code os.system})
 * before anything could use it. Tensors are read one at a time on request and converted to float32,
 * reading only the bytes of the storage the tensor covers, so a large checkpoint is never in memory
 * at once. The API mirrors {@link dev.moesr.nn.io.SafeTensorsFile}.
 *
 * <p>Formats: the zip archive of PyTorch 1.6 and later ({@code <archive>/data.pkl},
 * {@code <archive>/data/<key>}, {@code <archive>/byteorder}), stored or deflated, and the legacy
 * format ({@code _use_new_zipfile_serialization=False}: pickles followed by the storages). The
 * tar format of PyTorch before 0.1.10 and big-endian checkpoints are refused.
 *
 * <p>Content: the top level must be a dict. If it has a dict under {@code "state_dict"} (a
 * PyTorch Lightning checkpoint) the tensors are that dict's; otherwise they are the top level's.
 * Nested dicts are flattened with dotted names. Scalar values at the top level (a Lightning
 * checkpoint's {@code epoch}, {@code global_step} ...) are {@link #metadata}; everything else (an
 * optimiser's state, hyper-parameters) is ignored.
 *
 * <p>Dtypes: float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8 and bool
 * storages, named here as safetensors names them (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL).
 * Views are supported: storage offsets, arbitrary non-negative strides, tensors sharing a storage.
 *
 * <p>A malformed or hostile file gives an IllegalArgumentException that says what is wrong.
 */
public final class TorchCheckpoint implements TensorSource {
    /** The largest pickle accepted (a state dict's pickle is a few bytes per tensor). */
    public static final long MAX_PICKLE_BYTES = 64L << 20;
    /** Nested dicts of tensors are flattened to this depth at most. */
    static final int MAX_NAME_DEPTH = 32;
    /** Deflate cannot expand data more than about 1032 times; an entry declaring more is refused. */
    private static final long MAX_DEFLATE_RATIO = 1100;
    private static final int CHUNK_BYTES = 1 << 20;
    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long LEGACY_PROTOCOL = 1001;

    /**
     * One tensor: its dtype (a safetensors name), shape, strides and offset in elements within its
     * storage, and the storage's key (tensors with the same key share their data).
     */
    public record Entry(String dtype, int[] shape, long[] stride, long storageOffset, String storageKey) {
        public long numel() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }

        /** Whether the elements lie in row-major order, one after another, in the storage. */
        public boolean isContiguous() {
            long expected = 1;
            for (int i = shape.length - 1; i >= 0; i--) {
                if (shape[i] != 1 && stride[i] != expected) return numel() == 0;
                expected *= shape[i];
            }
            return true;
        }

        @Override public String toString() {
            return dtype + Arrays.toString(shape) + " stride " + Arrays.toString(stride) + " at " + storageOffset + " of storage " + storageKey;
        }
    }

    private final Path path;
    private final String format;
    private final ZipFile zip;             // zip format
    private final String prefix;
    private final FileChannel channel;     // legacy format
    private final Map<String, Long> legacyOffsets;
    private final Map<String, TensorRef> refs;
    private final Map<String, Entry> entries;
    private final Map<String, Object> metadata;

    private TorchCheckpoint(Path path, String format, ZipFile zip, String prefix, FileChannel channel, Map<String, Long> legacyOffsets,
                            Map<String, TensorRef> refs, Map<String, Object> metadata) {
        this.path = path;
        this.format = format;
        this.zip = zip;
        this.prefix = prefix;
        this.channel = channel;
        this.legacyOffsets = legacyOffsets;
        this.refs = refs;
        this.metadata = metadata;
        Map<String, Entry> e = new LinkedHashMap<>();
        for (var r : refs.entrySet()) {
            TensorRef t = r.getValue();
            e.put(r.getKey(), new Entry(t.storage().type().name(), t.shape().clone(), t.stride().clone(), t.offset(), t.storage().key()));
        }
        this.entries = Collections.unmodifiableMap(e);
    }

    /** Opens {@code path} and reads its pickle (not its tensor data); a malformed or hostile file gives an IllegalArgumentException. */
    public static TorchCheckpoint open(Path path) throws IOException {
        byte[] head;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate((int) Math.min(ch.size(), 512));
            while (b.hasRemaining() && ch.read(b) >= 0) { }
            head = Arrays.copyOf(b.array(), b.position());
        }
        if (head.length == 0) throw bad(path, "the file is empty");
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K') return openZip(path);
        if ((head[0] & 0xFF) == 0x80) return openLegacy(path);
        if (head.length >= 262 && new String(head, 257, 5, StandardCharsets.ISO_8859_1).equals("ustar")) {
            throw bad(path, "it is a tar archive, the format of PyTorch before 0.1.10, which this reader does not support");
        }
        throw bad(path, "it is neither a zip archive (torch.save since PyTorch 1.6) nor a legacy pickle (older torch.save)");
    }

    static IllegalArgumentException bad(Path path, String what) {
        return new IllegalArgumentException("invalid PyTorch checkpoint " + path + ": " + what);
    }

    // ---- zip format ---------------------------------------------------------------------------

    private static TorchCheckpoint openZip(Path path) throws IOException {
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw bad(path, "it is not a readable zip archive (" + e.getMessage() + "): the file is truncated or corrupt");
        }
        try {
            Enumeration<? extends ZipEntry> all = zip.entries();
            if (!all.hasMoreElements()) throw bad(path, "the zip archive is empty");
            String first = all.nextElement().getName();
            int slash = first.indexOf('/');
            if (slash <= 0) throw bad(path, "the zip entry \"" + Py.printable(first, 80) + "\" is not inside an archive folder, as torch.save writes");
            String prefix = first.substring(0, slash + 1);
            checkByteOrder(zip, prefix, path);
            String pklName = prefix + "data.pkl";
            ZipEntry pkl = zip.getEntry(pklName);
            if (pkl == null) throw bad(path, "there is no " + pklName + " in the zip archive: not a PyTorch checkpoint");
            long declared = pkl.getSize();
            if (declared > MAX_PICKLE_BYTES) {
                throw bad(path, pklName + " declares " + declared + " bytes, more than this reader's limit of " + MAX_PICKLE_BYTES + " (a zip bomb?)");
            }
            checkRatio(pkl, path);
            Map<String, StorageRef> storages = new HashMap<>();
            Unpickler.PersistentLoader loader = pid -> {
                StorageRef s = storage(pid, storages, false);
                if (s.numel() > 0) {
                    String name = prefix + "data/" + s.key();
                    ZipEntry data = zip.getEntry(name);
                    if (data == null) throw new PickleError("storage \"" + Py.printable(s.key(), 40) + "\" has no entry " + Py.printable(name, 80) + " in the archive");
                    long size = data.getSize();
                    if (size >= 0 && size < s.nbytes()) {
                        throw new PickleError("storage \"" + Py.printable(s.key(), 40) + "\" of " + s.numel() + " " + s.type() + " elements needs " + s.nbytes()
                                + " bytes, but its entry " + Py.printable(name, 80) + " holds only " + size + ": out of bounds");
                    }
                    String ratio = ratioProblem(data);
                    if (ratio != null) throw new PickleError(ratio);
                }
                return s;
            };
            Object root;
            try (InputStream in = new BufferedInputStream(zip.getInputStream(pkl), 1 << 16)) {
                boolean capped = declared < 0 || declared > MAX_PICKLE_BYTES;
                Unpickler.Input input = new Unpickler.Input(in, capped ? MAX_PICKLE_BYTES : declared, capped);
                root = Unpickler.load(input, loader);
            } catch (PickleError e) {
                throw bad(path, pklName + ", byte " + e.position + ": " + e.getMessage());
            } catch (ZipException e) {
                throw bad(path, pklName + " cannot be inflated (" + e.getMessage() + "): the file is corrupt");
            }
            Contents c = contents(root, path);
            return new TorchCheckpoint(path, "zip", zip, prefix, null, null, c.tensors, c.metadata);
        } catch (IOException | RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    private static void checkByteOrder(ZipFile zip, String prefix, Path path) throws IOException {
        ZipEntry e = zip.getEntry(prefix + "byteorder");
        if (e == null) return;   // written since PyTorch 2.0; older files are little-endian
        checkRatio(e, path);
        String order;
        try (InputStream in = zip.getInputStream(e)) {
            order = new String(in.readNBytes(16), StandardCharsets.ISO_8859_1).trim();
        } catch (ZipException ex) {
            throw bad(path, prefix + "byteorder cannot be inflated (" + ex.getMessage() + ")");
        }
        if (order.equals("little")) return;
        if (order.equals("big")) {
            throw bad(path, "its byteorder is \"big\": the tensors were saved on a big-endian machine, and this reader only reads little-endian checkpoints");
        }
        throw bad(path, "its byteorder entry says \"" + Py.printable(order, 16) + "\", neither \"little\" nor \"big\"");
    }

    private static void checkRatio(ZipEntry e, Path path) {
        String problem = ratioProblem(e);
        if (problem != null) throw bad(path, problem);
    }

    /** Deflate cannot inflate more than ~1032 times: an entry declaring more is lying (a zip bomb). */
    private static String ratioProblem(ZipEntry e) {
        if (e.getMethod() != ZipEntry.DEFLATED) return null;
        long size = e.getSize(), csize = e.getCompressedSize();
        if (size < 0 || csize < 0) return null;
        if (size / MAX_DEFLATE_RATIO > csize + 1024) {
            return "the zip entry " + Py.printable(e.getName(), 80) + " declares " + size + " bytes inflated from " + csize
                    + " compressed ones, more than deflate can produce (a zip bomb?)";
        }
        return null;
    }

    // ---- legacy format ------------------------------------------------------------------------

    private static TorchCheckpoint openLegacy(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            long size = ch.size();
            long[] pos = {0};
            Map<String, StorageRef> storages = new HashMap<>();
            Object magic = legacyPickle(ch, pos, size, null, path, "the magic number");
            if (!(magic instanceof BigInteger m) || !m.equals(LEGACY_MAGIC)) {
                throw bad(path, "it starts with a pickle but not with the PyTorch magic number: not a PyTorch checkpoint");
            }
            Object protocol = legacyPickle(ch, pos, size, null, path, "the protocol version");
            if (!(protocol instanceof Long p) || p != LEGACY_PROTOCOL) {
                throw bad(path, "its legacy protocol version is " + Py.describe(protocol) + ", not " + LEGACY_PROTOCOL);
            }
            Object sysInfo = legacyPickle(ch, pos, size, null, path, "the system information");
            if (!(sysInfo instanceof PyDict info)) throw bad(path, "its system information is " + Py.describe(sysInfo) + ", not a dict");
            if (!Boolean.TRUE.equals(info.items.get("little_endian"))) {
                throw bad(path, "it was saved on a big-endian machine (little_endian is not True), and this reader only reads little-endian checkpoints");
            }
            Object root = legacyPickle(ch, pos, size, pid -> storage(pid, storages, true), path, "the saved object");
            Object keys = legacyPickle(ch, pos, size, null, path, "the storage keys");
            if (!(keys instanceof PyList list)) throw bad(path, "its storage key list is " + Py.describe(keys) + ", not a list");
            Map<String, Long> offsets = new HashMap<>();
            long at = pos[0];
            for (Object k : list.items) {
                if (!(k instanceof String key)) throw bad(path, "a storage key is " + Py.describe(k) + ", not a str");
                StorageRef s = storages.get(key);
                if (s == null) throw bad(path, "the storage \"" + Py.printable(key, 40) + "\" is listed but no tensor names it, so its element size is unknown");
                if (offsets.containsKey(key)) throw bad(path, "the storage \"" + Py.printable(key, 40) + "\" is listed twice");
                if (at + 8 > size) throw bad(path, "the file ends at byte " + size + " before the data of storage \"" + Py.printable(key, 40) + "\": truncated");
                ByteBuffer n = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, n, at, path);
                long numel = n.flip().getLong();
                if (numel != s.numel()) {
                    throw bad(path, "storage \"" + Py.printable(key, 40) + "\" has " + numel + " elements in the data, " + s.numel() + " in the pickle");
                }
                if (s.nbytes() > size - (at + 8)) {
                    throw bad(path, "the " + s.nbytes() + " bytes of storage \"" + Py.printable(key, 40) + "\" from byte " + (at + 8)
                            + " run beyond the end of the file (" + size + " bytes): truncated");
                }
                offsets.put(key, at + 8);
                at = at + 8 + s.nbytes();
            }
            for (String key : storages.keySet()) {
                if (!offsets.containsKey(key)) throw bad(path, "storage \"" + Py.printable(key, 40) + "\" is used by a tensor but its data is not in the file");
            }
            Contents c = contents(root, path);
            return new TorchCheckpoint(path, "legacy", null, null, ch, offsets, c.tensors, c.metadata);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Reads the pickle at {@code pos[0]} and moves {@code pos[0]} past it. */
    private static Object legacyPickle(FileChannel ch, long[] pos, long size, Unpickler.PersistentLoader loader, Path path, String what)
            throws IOException {
        long left = size - pos[0];
        boolean capped = left > MAX_PICKLE_BYTES;
        InputStream in = new BufferedInputStream(new ChannelInputStream(ch, pos[0]), 1 << 16);
        Unpickler.Input input = new Unpickler.Input(in, capped ? MAX_PICKLE_BYTES : left, capped);
        try {
            Object o = Unpickler.load(input, loader);
            pos[0] += input.position();
            return o;
        } catch (PickleError e) {
            throw bad(path, "the pickle of " + what + " (at byte " + pos[0] + "), byte " + e.position + ": " + e.getMessage());
        }
    }

    // ---- persistent ids and contents ----------------------------------------------------------

    /** ('storage', torch.FloatStorage, key, location, numel) [, view_metadata None in the legacy format] as a storage. */
    private static StorageRef storage(Object pid, Map<String, StorageRef> storages, boolean legacy) {
        int n = legacy ? 6 : 5;
        if (!(pid instanceof Tuple t) || t.size() != n || !"storage".equals(t.get(0))) {
            throw new PickleError("a persistent id is " + Py.describe(pid) + ", not ('storage', type, key, location, numel"
                    + (legacy ? ", view" : "") + ")");
        }
        if (!(t.get(1) instanceof Global g) || g.kind() != Unpickler.Allowed.STORAGE_TYPE) {
            throw new PickleError("a persistent id names " + Py.describe(t.get(1)) + " as its storage type");
        }
        if (!(t.get(2) instanceof String key) || !(t.get(3) instanceof String location) || !(t.get(4) instanceof Long numel) || numel < 0) {
            throw new PickleError("a persistent id for a " + g.qualified() + " has a malformed key, location or element count");
        }
        if (legacy && t.get(5) != null) throw new PickleError("storage \"" + Py.printable(key, 40) + "\" is a storage view (legacy view_metadata), which is not supported");
        StorageType type = StorageType.ofTorchName(g.name());
        if (numel > Long.MAX_VALUE / type.bytes) throw new PickleError("storage \"" + Py.printable(key, 40) + "\" of " + numel + " elements is too large to address");
        StorageRef s = new StorageRef(key, type, numel, location);
        StorageRef before = storages.get(key);
        if (before != null) {
            if (before.type() != type || before.numel() != numel) {
                throw new PickleError("storage \"" + Py.printable(key, 40) + "\" is named twice with different types or sizes");
            }
            return before;
        }
        if (storages.size() >= Unpickler.MAX_MEMO) throw new PickleError("more than " + Unpickler.MAX_MEMO + " storages");
        storages.put(key, s);
        return s;
    }

    private record Contents(Map<String, TensorRef> tensors, Map<String, Object> metadata) {}

    private static Contents contents(Object root, Path path) {
        if (!(root instanceof PyDict top)) {
            throw bad(path, "it holds " + Py.describe(root) + ", not a dict of tensors (a state dict or a Lightning checkpoint)");
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        for (var e : top.items.entrySet()) {
            if (e.getKey() instanceof String k && Py.isScalar(e.getValue())) metadata.put(k, e.getValue());
        }
        Object sd = top.items.get("state_dict");
        PyDict tensorsDict = sd instanceof PyDict d ? d : top;
        Map<String, TensorRef> tensors = new LinkedHashMap<>();
        flatten(tensorsDict, tensors, path);
        return new Contents(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    /** Collects the tensors of {@code root} and of its nested dicts (dotted names), iteratively and at most {@link #MAX_NAME_DEPTH} deep. */
    private static void flatten(PyDict root, Map<String, TensorRef> out, Path path) {
        // Depth first with a stack of per-dict iterators, so the names keep the file's order.
        record Frame(Iterator<Map.Entry<Object, Object>> it, String prefix, int depth) {}
        ArrayDeque<Frame> frames = new ArrayDeque<>();
        IdentityHashMap<PyDict, Boolean> seen = new IdentityHashMap<>();
        seen.put(root, true);
        frames.push(new Frame(root.items.entrySet().iterator(), "", 1));
        while (!frames.isEmpty()) {
            Frame frame = frames.peek();
            if (!frame.it.hasNext()) {
                frames.pop();
                continue;
            }
            var e = frame.it.next();
            String key;
            if (e.getKey() instanceof String s) key = s;
            else if (e.getKey() instanceof Long || e.getKey() instanceof BigInteger) key = e.getKey().toString();
            else continue;
            String name = frame.prefix + key;
            if (e.getValue() instanceof TensorRef t) {
                if (out.containsKey(name)) throw bad(path, "two tensors have the name \"" + Py.printable(name, 120) + "\" once nested dicts are flattened");
                out.put(name, t);
            } else if (e.getValue() instanceof PyDict d) {
                if (seen.containsKey(d)) continue;   // a dict reached twice (or a cycle): its tensors are named once
                if (frame.depth >= MAX_NAME_DEPTH) throw bad(path, "dicts of tensors nest more than " + MAX_NAME_DEPTH + " levels deep");
                seen.put(d, true);
                frames.push(new Frame(d.items.entrySet().iterator(), name + ".", frame.depth + 1));
            }
        }
    }

    // ---- access -------------------------------------------------------------------------------

    @Override public Path path() { return path; }

    /** "zip" (PyTorch 1.6 and later) or "legacy". */
    public String format() { return format; }

    /** The tensors by name, in the file's order (a Lightning checkpoint's state_dict; nested dicts flattened with dots). */
    public Map<String, Entry> tensors() { return entries; }

    /** The same as {@link #tensors}, named as {@link dev.moesr.nn.io.SafeTensorsFile#entries}. */
    public Map<String, Entry> entries() { return entries; }

    /**
     * The top level's scalar values by name (String, Long or BigInteger, Double, Boolean, or null for
     * None), such as a Lightning checkpoint's epoch and global_step; empty when there are none.
     */
    public Map<String, Object> metadata() { return metadata; }

    /** Reads tensor {@code name} into a new float32 CPU tensor. */
    public Tensor read(String name) throws IOException { return read(name, Device.CPU); }

    /** Reads tensor {@code name} as float32 onto {@code device}; the tensor belongs to the scope open now. */
    @Override public Tensor read(String name, Device device) throws IOException {
        float[] values = readFloats(name);
        return Tensor.wrap(Backends.get(device).upload(values), Shape.of(refs.get(name).shape()), DType.F32);
    }

    @Override public Set<String> names() { return entries.keySet(); }

    @Override public int[] shape(String name) { return entry(name).shape().clone(); }

    @Override public String dtype(String name) { return entry(name).dtype(); }

    @Override public String kind() { return "PyTorch checkpoint"; }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException("no tensor named \"" + name + "\" in " + path + " (it has " + entries.size() + " tensors)");
        return e;
    }

    /** Reads the values of tensor {@code name}, converted to float32, in row-major order. */
    @Override public float[] readFloats(String name) throws IOException {
        TensorRef t = refs.get(name);
        if (t == null) throw new IllegalArgumentException("no tensor named \"" + name + "\" in " + path + " (it has " + refs.size() + " tensors)");
        long numel = t.numel();
        if (numel > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("tensor \"" + name + "\" of " + numel + " elements is too large for one Java array");
        if (numel * 4 > Runtime.getRuntime().maxMemory()) {
            throw new IllegalArgumentException("tensor \"" + name + "\" of " + numel + " elements does not fit in this JVM's heap (-Xmx)");
        }
        float[] out = new float[(int) numel];
        if (numel == 0) return out;
        StorageType type = t.storage().type();
        Entry e = entries.get(name);
        if (e.isContiguous()) {
            try (InputStream in = open(t.storage(), t.offset() * type.bytes, name)) {
                int done = 0;
                byte[] buf = new byte[(int) Math.min(CHUNK_BYTES, numel * type.bytes)];
                while (done < out.length) {
                    int elems = Math.min(out.length - done, CHUNK_BYTES / type.bytes);
                    readFully(in, buf, elems * type.bytes, name);
                    type.decode(ByteBuffer.wrap(buf, 0, elems * type.bytes).order(ByteOrder.LITTLE_ENDIAN), out, done, elems);
                    done += elems;
                }
            }
            return out;
        }
        // A strided view: read the span of the storage it covers, then gather.
        long last = t.offset();
        for (int i = 0; i < t.shape().length; i++) last += (long) (t.shape()[i] - 1) * t.stride()[i];
        long spanBytes = (last - t.offset() + 1) * type.bytes;
        if (spanBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor \"" + name + "\" is a view spanning " + spanBytes + " bytes of its storage, more than this reader gathers at once");
        }
        byte[] span = new byte[(int) spanBytes];
        try (InputStream in = open(t.storage(), t.offset() * type.bytes, name)) {
            readFully(in, span, span.length, name);
        }
        ByteBuffer b = ByteBuffer.wrap(span).order(ByteOrder.LITTLE_ENDIAN);
        int[] shape = t.shape();
        long[] stride = t.stride();
        int[] index = new int[shape.length];
        long at = 0;   // element index within the span
        for (int i = 0; i < out.length; i++) {
            out[i] = type.decodeAt(b, (int) (at * type.bytes));
            for (int d = shape.length - 1; d >= 0; d--) {   // odometer: next index in row-major order
                if (++index[d] < shape[d]) {
                    at += stride[d];
                    break;
                }
                index[d] = 0;
                at -= (long) (shape[d] - 1) * stride[d];
            }
        }
        return out;
    }

    /** A stream of the storage's bytes from {@code byteOffset}; it inflates (if compressed) no more than is read. */
    private InputStream open(StorageRef s, long byteOffset, String name) throws IOException {
        InputStream in;
        if (zip != null) {
            ZipEntry e = zip.getEntry(prefix + "data/" + s.key());
            if (e == null) throw new IllegalArgumentException("the data of tensor \"" + name + "\" is missing from " + path);
            in = zip.getInputStream(e);
        } else {
            in = new ChannelInputStream(channel, legacyOffsets.get(s.key()));
        }
        try {
            long left = byteOffset;
            while (left > 0) {
                long n = in.skip(left);
                if (n <= 0) {
                    if (in.read() < 0) throw new IllegalArgumentException("the data of tensor \"" + name + "\" in " + path + " ends early: the file is truncated");
                    n = 1;
                }
                left -= n;
            }
            return in;
        } catch (ZipException e) {
            in.close();
            throw new IllegalArgumentException("the data of tensor \"" + name + "\" in " + path + " cannot be inflated (" + e.getMessage() + ")");
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    private void readFully(InputStream in, byte[] buf, int n, String name) throws IOException {
        int got;
        try {
            got = in.readNBytes(buf, 0, n);
        } catch (ZipException e) {
            throw new IllegalArgumentException("the data of tensor \"" + name + "\" in " + path + " cannot be inflated (" + e.getMessage() + ")");
        }
        if (got < n) throw new IllegalArgumentException("the data of tensor \"" + name + "\" in " + path + " ends early: the file is truncated");
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path path) throws IOException {
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) throw bad(path, "the file ends early: truncated");
        }
    }

    @Override public void close() throws IOException {
        if (zip != null) zip.close();
        if (channel != null) channel.close();
    }

    /** An input stream over a file channel from a position, by positional reads (the channel's own position is untouched). */
    private static final class ChannelInputStream extends InputStream {
        private final FileChannel ch;
        private long pos;

        ChannelInputStream(FileChannel ch, long pos) {
            this.ch = ch;
            this.pos = pos;
        }

        @Override public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            int n = ch.read(ByteBuffer.wrap(b, off, len), pos);
            if (n > 0) pos += n;
            return n;
        }

        @Override public long skip(long n) throws IOException {
            long k = Math.max(0, Math.min(n, ch.size() - pos));
            pos += k;
            return k;
        }

        @Override public void close() { }   // the channel belongs to the checkpoint
    }
}
