package dev.moesr.nn.io.torch;

import dev.moesr.nn.io.torch.Py.Global;
import dev.moesr.nn.io.torch.Py.PyDict;
import dev.moesr.nn.io.torch.Py.PyList;
import dev.moesr.nn.io.torch.Py.PySet;
import dev.moesr.nn.io.torch.Py.StorageRef;
import dev.moesr.nn.io.torch.Py.TensorRef;
import dev.moesr.nn.io.torch.Py.Tuple;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A restricted unpickler: it interprets the opcodes a PyTorch state dict or Lightning checkpoint
 * needs (pickle protocols 2 to 5) and nothing else, and never calls anything: a global is looked up
 * in a fixed allow-list when its GLOBAL/STACK_GLOBAL opcode is read, and any other global is refused
 * there, before a REDUCE could use it. The few allowed callables are emulated in Java (an
 * OrderedDict is a map, {@code _rebuild_tensor_v2} a {@link TensorRef}).
 *
 * <p>Every count is bounded: the stack, the marks, the memo, the nesting depth of containers and the
 * bytes read, so a hostile pickle ends in a {@link PickleError} that says what is wrong, not in an
 * OutOfMemoryError, a StackOverflowError or a loop. The interpreter itself is iterative.
 */
final class Unpickler {
    static final int MAX_STACK = 1 << 20;
    static final int MAX_MARKS = 1000;
    static final int MAX_DEPTH = 1000;
    static final int MAX_MEMO = 1 << 21;
    static final int MAX_DIMS = 64;
    private static final int MAX_GLOBAL_LINE = 256;
    private static final int MAX_LONG_BYTES = 1 << 16;

    /** What an allowed global is; nothing of it is ever called, its effect is emulated. */
    enum Allowed {
        ORDERED_DICT, DATA_OBJECT, REBUILD_TENSOR_V2, REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE,
        STORAGE_TYPE, DTYPE, TORCH_SIZE, SET, FROZENSET, CODECS_ENCODE
    }

    private static final Map<String, Allowed> ALLOWED = new LinkedHashMap<>();

    static {
        ALLOWED.put("collections.OrderedDict", Allowed.ORDERED_DICT);
        ALLOWED.put("torch._utils._rebuild_tensor_v2", Allowed.REBUILD_TENSOR_V2);
        ALLOWED.put("torch._utils._rebuild_parameter", Allowed.REBUILD_PARAMETER);
        ALLOWED.put("torch._utils._rebuild_parameter_with_state", Allowed.REBUILD_PARAMETER_WITH_STATE);
        for (StorageType t : StorageType.values()) ALLOWED.put("torch." + t.torchName, Allowed.STORAGE_TYPE);
        for (String d : new String[] {"float32", "float", "float16", "half", "bfloat16", "float64", "double", "int64", "long",
                "int32", "int", "int16", "short", "int8", "uint8", "bool"}) {
            ALLOWED.put("torch." + d, Allowed.DTYPE);
        }
        ALLOWED.put("torch.Size", Allowed.TORCH_SIZE);
        ALLOWED.put("builtins.set", Allowed.SET);
        ALLOWED.put("builtins.frozenset", Allowed.FROZENSET);
        ALLOWED.put("_codecs.encode", Allowed.CODECS_ENCODE);
        // Dict-like containers of a Lightning checkpoint's hyper-parameters: rebuilt as plain maps.
        ALLOWED.put("argparse.Namespace", Allowed.DATA_OBJECT);
        ALLOWED.put("pytorch_lightning.utilities.parsing.AttributeDict", Allowed.DATA_OBJECT);
        ALLOWED.put("lightning_fabric.utilities.data.AttributeDict", Allowed.DATA_OBJECT);
        ALLOWED.put("lightning.fabric.utilities.data.AttributeDict", Allowed.DATA_OBJECT);
        ALLOWED.put("lightning.pytorch.utilities.parsing.AttributeDict", Allowed.DATA_OBJECT);
    }

    /** A malformed or hostile pickle; {@code position} is the byte offset of the opcode that failed. */
    static final class PickleError extends IllegalArgumentException {
        long position = -1;

        PickleError(String message) { super(message); }
    }

    /** Turns a persistent id (BINPERSID) into a value, typically a {@link StorageRef}. */
    interface PersistentLoader {
        Object load(Object pid);
    }

    /**
     * The bytes of one pickle: at most {@code limit} bytes are read from {@code in}. {@code capped}
     * says the limit is this reader's cap rather than the end of the data, for the message.
     */
    static final class Input {
        private final InputStream in;
        private final long limit;
        private final boolean capped;
        private long pos;

        Input(InputStream in, long limit, boolean capped) {
            this.in = in;
            this.limit = limit;
            this.capped = capped;
        }

        long position() { return pos; }

        int read() throws IOException {
            if (pos >= limit) throw pastEnd(1);
            int b = in.read();
            if (b < 0) throw truncated();
            pos++;
            return b;
        }

        byte[] read(long n) throws IOException {
            if (n < 0) throw new PickleError("a negative length " + n);
            if (n > limit - pos) throw pastEnd(n);
            byte[] b = in.readNBytes((int) n);   // grows with the data actually there, not with n
            pos += b.length;
            if (b.length < n) throw truncated();
            return b;
        }

        private PickleError pastEnd(long n) {
            return capped
                    ? new PickleError("the pickle is larger than this reader's limit of " + limit + " bytes (reading " + n + " bytes at byte " + pos + ")")
                    : new PickleError("the pickle ends before its STOP opcode (reading " + n + " bytes at byte " + pos + " of " + limit
                            + "): the file is truncated or corrupt");
        }

        private PickleError truncated() {
            return new PickleError("the pickle ends at byte " + pos + " before its STOP opcode: the file is truncated or corrupt");
        }
    }

    private final Input in;
    private final PersistentLoader persistent;
    private final List<Object> stack = new ArrayList<>();
    private final int[] marks = new int[MAX_MARKS];
    private int markCount;
    private final Map<Long, Object> memo = new HashMap<>();

    private Unpickler(Input in, PersistentLoader persistent) {
        this.in = in;
        this.persistent = persistent;
    }

    /** Reads one pickle (up to and including its STOP) from {@code in}; {@code persistent} may be null (then BINPERSID is refused). */
    static Object load(Input in, PersistentLoader persistent) throws IOException {
        return new Unpickler(in, persistent).run();
    }

    /** The qualified names of the allowed globals, for messages. */
    static String allowedNames() {
        TreeSet<String> names = new TreeSet<>();
        for (var e : ALLOWED.entrySet()) {
            if (e.getValue() != Allowed.STORAGE_TYPE && e.getValue() != Allowed.DTYPE) names.add(e.getKey());
        }
        names.add("torch.<Type>Storage");
        names.add("torch.<dtype>");
        return String.join(", ", names);
    }

    private Object run() throws IOException {
        long opStart = 0;
        try {
            while (true) {
                opStart = in.position();
                int op = in.read();
                switch (op) {
                    case 0x80 -> {   // PROTO
                        int v = in.read();
                        if (v < 2 || v > 5) throw new PickleError("pickle protocol " + v + " is not supported (2 to 5 are)");
                    }
                    case 0x95 -> {   // FRAME: a framing hint, the bytes follow as usual
                        long n = readLongLE(8);
                        if (n < 0) throw new PickleError("a FRAME of negative length");
                    }
                    case '.' -> {   // STOP
                        return pop();
                    }
                    case '(' -> {   // MARK
                        if (markCount == MAX_MARKS) throw new PickleError("the pickle nests more than " + MAX_MARKS + " MARKs");
                        marks[markCount++] = stack.size();
                    }
                    case '0' -> {   // POP
                        if (stack.size() > currentMark()) stack.remove(stack.size() - 1);
                        else popMark();
                    }
                    case '1' -> popMarkItems();   // POP_MARK
                    case '2' -> push(peek());   // DUP
                    case '}' -> push(new PyDict(null));
                    case ']' -> push(new PyList());
                    case ')' -> push(new Tuple(new Object[0]));
                    case 0x8f -> push(new PySet(false));   // EMPTY_SET
                    case 'd' -> {   // DICT
                        List<Object> items = popMarkItems();
                        PyDict d = new PyDict(null);
                        setItems(d, items);
                        push(d);
                    }
                    case 'l' -> {   // LIST
                        List<Object> items = popMarkItems();
                        PyList l = new PyList();
                        for (Object o : items) append(l, o);
                        push(l);
                    }
                    case 't' -> push(tuple(popMarkItems().toArray()));   // TUPLE
                    case 0x85 -> push(tuple(new Object[] {pop()}));   // TUPLE1
                    case 0x86 -> {   // TUPLE2
                        Object b = pop(), a = pop();
                        push(tuple(new Object[] {a, b}));
                    }
                    case 0x87 -> {   // TUPLE3
                        Object c = pop(), b = pop(), a = pop();
                        push(tuple(new Object[] {a, b, c}));
                    }
                    case 0x91 -> {   // FROZENSET
                        List<Object> items = popMarkItems();
                        PySet s = new PySet(true);
                        for (Object o : items) addToSet(s, o);
                        push(s);
                    }
                    case 0x90 -> {   // ADDITEMS
                        List<Object> items = popMarkItems();
                        if (!(peek() instanceof PySet s) || s.frozen) throw new PickleError("ADDITEMS on " + Py.describe(peek()) + ", not a set");
                        for (Object o : items) addToSet(s, o);
                    }
                    case 'J' -> push((long) (int) readLongLE(4));   // BININT
                    case 'K' -> push((long) in.read());   // BININT1
                    case 'M' -> push(readLongLE(2));   // BININT2
                    case 0x8a -> push(readLong(in.read()));   // LONG1
                    case 0x8b -> {   // LONG4
                        long n = (int) readLongLE(4);
                        if (n < 0 || n > MAX_LONG_BYTES) throw new PickleError("a LONG4 of " + n + " bytes");
                        push(readLong((int) n));
                    }
                    case 'G' -> push(ByteBuffer.wrap(in.read(8)).order(ByteOrder.BIG_ENDIAN).getDouble());   // BINFLOAT
                    case 'N' -> push(null);
                    case 0x88 -> push(Boolean.TRUE);
                    case 0x89 -> push(Boolean.FALSE);
                    case 'X' -> push(utf8(in.read(readLongLE(4))));   // BINUNICODE
                    case 0x8c -> push(utf8(in.read(in.read())));   // SHORT_BINUNICODE
                    case 0x8d -> push(utf8(in.read(readLongLE(8))));   // BINUNICODE8
                    case 'U' -> push(new String(in.read(in.read()), StandardCharsets.ISO_8859_1));   // SHORT_BINSTRING
                    case 'T' -> push(new String(in.read((int) readLongLE(4)), StandardCharsets.ISO_8859_1));   // BINSTRING
                    case 'B' -> push(in.read(readLongLE(4)));   // BINBYTES
                    case 'C' -> push(in.read(in.read()));   // SHORT_BINBYTES
                    case 0x8e, 0x96 -> push(in.read(readLongLE(8)));   // BINBYTES8, BYTEARRAY8
                    case 'q' -> memoPut(in.read());   // BINPUT
                    case 'r' -> memoPut(readLongLE(4));   // LONG_BINPUT
                    case 0x94 -> memoPut(memo.size());   // MEMOIZE
                    case 'h' -> memoGet(in.read());   // BINGET
                    case 'j' -> memoGet(readLongLE(4));   // LONG_BINGET
                    case 's' -> {   // SETITEM
                        Object v = pop(), k = pop();
                        setItems(dictOnTop("SETITEM"), java.util.Arrays.asList(k, v));
                    }
                    case 'u' -> {   // SETITEMS
                        List<Object> items = popMarkItems();
                        setItems(dictOnTop("SETITEMS"), items);
                    }
                    case 'a' -> {   // APPEND
                        Object v = pop();
                        append(listOnTop("APPEND"), v);
                    }
                    case 'e' -> {   // APPENDS
                        List<Object> items = popMarkItems();
                        PyList l = listOnTop("APPENDS");
                        for (Object o : items) append(l, o);
                    }
                    case 'c' -> {   // GLOBAL
                        String module = readLine();
                        String name = readLine();
                        push(global(module, name));
                    }
                    case 0x93 -> {   // STACK_GLOBAL
                        Object name = pop(), module = pop();
                        if (!(module instanceof String m) || !(name instanceof String n)) {
                            throw new PickleError("STACK_GLOBAL needs two strings, got " + Py.describe(module) + " and " + Py.describe(name));
                        }
                        push(global(m, n));
                    }
                    case 'R' -> {   // REDUCE
                        Object args = pop(), f = pop();
                        push(reduce(f, args));
                    }
                    case 0x81 -> {   // NEWOBJ
                        Object args = pop(), cls = pop();
                        push(newObject(cls, args, null));
                    }
                    case 0x92 -> {   // NEWOBJ_EX
                        Object kwargs = pop(), args = pop(), cls = pop();
                        push(newObject(cls, args, kwargs));
                    }
                    case 'b' -> {   // BUILD
                        Object state = pop();
                        build(peek(), state);
                    }
                    case 'Q' -> {   // BINPERSID
                        Object pid = pop();
                        if (persistent == null) throw new PickleError("a persistent id (BINPERSID) where none is expected");
                        push(persistent.load(pid));
                    }
                    default -> throw new PickleError(unsupported(op));
                }
            }
        } catch (PickleError e) {
            if (e.position < 0) e.position = opStart;
            throw e;
        }
    }

    private static String unsupported(int op) {
        String name = switch (op) {
            case 'I' -> "INT"; case 'L' -> "LONG"; case 'F' -> "FLOAT"; case 'S' -> "STRING"; case 'V' -> "UNICODE";
            case 'g' -> "GET"; case 'p' -> "PUT"; case 'i' -> "INST"; case 'o' -> "OBJ"; case 'P' -> "PERSID";
            case 0x82 -> "EXT1"; case 0x83 -> "EXT2"; case 0x84 -> "EXT4"; case 0x97 -> "NEXT_BUFFER"; case 0x98 -> "READONLY_BUFFER";
            default -> null;
        };
        String code = String.format("0x%02x", op);
        return name != null
                ? "opcode " + name + " (" + code + ") is not supported: this reader handles the binary opcodes of pickle protocols 2 to 5 that state dicts use"
                : "unknown pickle opcode " + code + ": the data is not a pickle or is corrupt";
    }

    // ---- stack --------------------------------------------------------------------------------

    private int currentMark() { return markCount == 0 ? 0 : marks[markCount - 1]; }

    private void push(Object o) {
        if (stack.size() >= MAX_STACK) throw new PickleError("the pickle stack grows beyond " + MAX_STACK + " items");
        stack.add(o);
    }

    private Object pop() {
        if (stack.size() <= currentMark()) throw new PickleError("the pickle pops from an empty stack (or below its MARK)");
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        if (stack.size() <= currentMark()) throw new PickleError("the pickle reads from an empty stack (or below its MARK)");
        return stack.get(stack.size() - 1);
    }

    private int popMark() {
        if (markCount == 0) throw new PickleError("the pickle uses a MARK it never set");
        return marks[--markCount];
    }

    /** Removes and returns the items above the innermost MARK, and the MARK. */
    private List<Object> popMarkItems() {
        int m = popMark();
        List<Object> top = stack.subList(m, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    // ---- memo ---------------------------------------------------------------------------------

    private void memoPut(long index) {
        if (index < 0) throw new PickleError("a negative memo index " + index);
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) throw new PickleError("the pickle memoizes more than " + MAX_MEMO + " values");
        memo.put(index, peek());
    }

    private void memoGet(long index) {
        if (!memo.containsKey(index)) throw new PickleError("the pickle gets memo entry " + index + ", which was never put");
        push(memo.get(index));
    }

    // ---- scalars ------------------------------------------------------------------------------

    private long readLongLE(int n) throws IOException {
        byte[] b = in.read(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | (b[i] & 0xFF);
        return v;
    }

    /** A two's-complement little-endian integer of {@code n} bytes, as a Long when it fits. */
    private Object readLong(int n) throws IOException {
        byte[] le = in.read(n);
        if (n == 0) return 0L;
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) be[i] = le[n - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private static String utf8(byte[] b) { return new String(b, StandardCharsets.UTF_8); }

    private String readLine() throws IOException {
        byte[] b = new byte[MAX_GLOBAL_LINE];
        for (int n = 0; n < b.length; n++) {
            int c = in.read();
            if (c == '\n') return new String(b, 0, n, StandardCharsets.UTF_8);
            b[n] = (byte) c;
        }
        throw new PickleError("a GLOBAL name longer than " + MAX_GLOBAL_LINE + " bytes");
    }

    // ---- containers ---------------------------------------------------------------------------

    private static Tuple tuple(Object[] items) {
        Tuple t = new Tuple(items);
        if (t.depth > MAX_DEPTH) throw tooDeep();
        return t;
    }

    private static PickleError tooDeep() {
        return new PickleError("the pickle nests containers more than " + MAX_DEPTH + " levels deep");
    }

    private static int deeper(int depth, Object child) {
        int d = Math.max(depth, Py.depthOf(child) + 1);
        if (d > MAX_DEPTH) throw tooDeep();
        return d;
    }

    private PyDict dictOnTop(String op) {
        if (!(peek() instanceof PyDict d)) throw new PickleError(op + " on " + Py.describe(peek()) + ", not a dict");
        return d;
    }

    private PyList listOnTop(String op) {
        if (!(peek() instanceof PyList l)) throw new PickleError(op + " on " + Py.describe(peek()) + ", not a list");
        return l;
    }

    private static void append(PyList l, Object o) {
        l.depth = deeper(l.depth, o);
        l.items.add(o);
    }

    private static void setItems(PyDict d, List<Object> kv) {
        if (kv.size() % 2 != 0) throw new PickleError("a dict is given an odd number (" + kv.size() + ") of keys and values");
        for (int i = 0; i < kv.size(); i += 2) {
            Object k = key(kv.get(i)), v = kv.get(i + 1);
            d.depth = deeper(d.depth, v);
            d.items.put(k, v);
        }
    }

    private static void addToSet(PySet s, Object o) {
        s.items.add(key(o));
    }

    /**
     * Checks a dict key or set item: a scalar or a flat tuple of scalars. (Python accepts any
     * hashable; a state dict or checkpoint needs no more, and this keeps hashing cheap.)
     */
    private static Object key(Object k) {
        if (Py.isScalar(k)) return k;
        if (k instanceof Tuple t) {
            boolean flat = true;
            for (Object o : t.items) flat &= Py.isScalar(o);
            if (flat) return k;
        }
        throw new PickleError("a dict key or set item is " + Py.describe(k) + ": only str, int, float, bool, None and flat tuples of those are accepted");
    }

    // ---- globals and calls --------------------------------------------------------------------

    private static Global global(String module, String name) {
        if (module.equals("__builtin__")) module = "builtins";   // protocol 2 names Python 3 builtins as Python 2 did
        String q = module + "." + name;
        Allowed kind = ALLOWED.get(q);
        if (kind == null) {
            String why = q.equals("torch.storage._load_from_bytes")
                    ? " (it unpickles a nested pickle, as torch.save of a storage with the old pickler writes, which this reader refuses)"
                    : "";
            throw new PickleError("global " + Py.printable(q, 120) + " is not allowed" + why
                    + ": this reader never runs code from a file and only knows " + allowedNames());
        }
        return new Global(module, name, kind);
    }

    private static Object reduce(Object f, Object args) {
        if (!(f instanceof Global g)) throw new PickleError("REDUCE calls " + Py.describe(f) + ", which is not an allowed global");
        if (!(args instanceof Tuple a)) throw new PickleError("REDUCE of " + g.qualified() + " with " + Py.describe(args) + " as arguments, not a tuple");
        switch (g.kind()) {
            case ORDERED_DICT, DATA_OBJECT -> {
                PyDict d = new PyDict(g);
                if (a.size() == 0) return d;
                if (a.size() == 1 && g.kind() == Allowed.ORDERED_DICT && a.get(0) instanceof PyList l) {
                    List<Object> kv = new ArrayList<>();
                    for (Object pair : l.items) {
                        if (!(pair instanceof Tuple p) || p.size() != 2) throw new PickleError("OrderedDict built from " + Py.describe(pair) + ", not a (key, value) pair");
                        kv.add(p.get(0));
                        kv.add(p.get(1));
                    }
                    setItems(d, kv);
                    return d;
                }
                throw new PickleError(g.qualified() + " called with " + a.size() + " arguments");
            }
            case REBUILD_TENSOR_V2 -> { return rebuildTensor(a); }
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
                int n = g.kind() == Allowed.REBUILD_PARAMETER ? 3 : 4;
                if (a.size() != n || !(a.get(0) instanceof TensorRef t)) {
                    throw new PickleError(g.qualified() + " needs " + n + " arguments starting with a tensor, got " + a.size()
                            + (a.size() > 0 ? " starting with " + Py.describe(a.get(0)) : ""));
                }
                return t;
            }
            case TORCH_SIZE -> {
                if (a.size() == 1 && a.get(0) instanceof Tuple t) return t;
                if (a.size() == 1 && a.get(0) instanceof PyList l) return tuple(l.items.toArray());
                throw new PickleError("torch.Size called with " + (a.size() == 1 ? Py.describe(a.get(0)) : a.size() + " arguments"));
            }
            case SET, FROZENSET -> {
                PySet s = new PySet(g.kind() == Allowed.FROZENSET);
                if (a.size() == 0) return s;
                if (a.size() == 1 && a.get(0) instanceof PyList l) {
                    for (Object o : l.items) addToSet(s, o);
                    return s;
                }
                throw new PickleError(g.qualified() + " called with " + (a.size() == 1 ? Py.describe(a.get(0)) : a.size() + " arguments"));
            }
            case CODECS_ENCODE -> {
                // How protocol 2 writes bytes: _codecs.encode(str, "latin1"); emulated, never called.
                if (a.size() == 2 && a.get(0) instanceof String s && ("latin1".equals(a.get(1)) || "latin-1".equals(a.get(1)))) {
                    byte[] b = new byte[s.length()];
                    for (int i = 0; i < b.length; i++) {
                        char c = s.charAt(i);
                        if (c > 0xFF) throw new PickleError("_codecs.encode of a non-latin-1 string");
                        b[i] = (byte) c;
                    }
                    return b;
                }
                throw new PickleError("_codecs.encode is only accepted as (str, \"latin1\"), the form pickle uses for bytes");
            }
            default -> throw new PickleError("the global " + g.qualified() + " cannot be called");
        }
    }

    private static Object newObject(Object cls, Object args, Object kwargs) {
        if (!(cls instanceof Global g) || (g.kind() != Allowed.ORDERED_DICT && g.kind() != Allowed.DATA_OBJECT)) {
            throw new PickleError("NEWOBJ of " + Py.describe(cls) + ": only OrderedDict and dict-like data objects can be created");
        }
        if (!(args instanceof Tuple a) || a.size() != 0) throw new PickleError("NEWOBJ of " + g.qualified() + " with arguments " + Py.describe(args));
        if (kwargs != null && (!(kwargs instanceof PyDict kw) || !kw.items.isEmpty())) {
            throw new PickleError("NEWOBJ_EX of " + g.qualified() + " with keyword arguments " + Py.describe(kwargs));
        }
        return new PyDict(g);
    }

    private static void build(Object obj, Object state) {
        if (!(obj instanceof PyDict d) || d.cls == null) {
            throw new PickleError("BUILD on " + Py.describe(obj) + ": only an OrderedDict or a dict-like data object accepts state");
        }
        Object dictState = state;
        if (state instanceof Tuple t && t.size() == 2) dictState = t.get(0);   // (__dict__, __slots__ state)
        if (dictState != null && !(dictState instanceof PyDict)) {
            throw new PickleError("BUILD of " + d.cls.qualified() + " with " + Py.describe(state) + " as state, not a dict");
        }
        if (d.cls.name().equals("Namespace") && dictState instanceof PyDict s) {
            // argparse.Namespace keeps its values as attributes: they are its items here.
            List<Object> kv = new ArrayList<>();
            for (var e : s.items.entrySet()) {
                kv.add(e.getKey());
                kv.add(e.getValue());
            }
            setItems(d, kv);
        } else {
            d.state = state;   // an OrderedDict's attributes (a state dict's _metadata): kept aside, not items
            d.depth = deeper(d.depth, state);
        }
    }

    private static Object rebuildTensor(Tuple a) {
        if (a.size() < 6 || a.size() > 7) throw new PickleError("torch._utils._rebuild_tensor_v2 called with " + a.size() + " arguments (6 or 7 expected)");
        if (!(a.get(0) instanceof StorageRef s)) {
            throw new PickleError("torch._utils._rebuild_tensor_v2 needs a storage (a persistent id) first, got " + Py.describe(a.get(0)));
        }
        long offset = nonNegative(a.get(1), "storage offset");
        long[] size = longs(a.get(2), "size");
        long[] stride = longs(a.get(3), "stride");
        if (size.length != stride.length) {
            throw new PickleError("a tensor has " + size.length + " sizes but " + stride.length + " strides");
        }
        int[] shape = new int[size.length];
        long numel = 1;
        long last = offset;
        try {
            for (int i = 0; i < size.length; i++) {
                if (size[i] > Integer.MAX_VALUE) throw new PickleError("a tensor dimension of " + size[i] + " is larger than this reader supports");
                shape[i] = (int) size[i];
                numel = Math.multiplyExact(numel, size[i]);
            }
            if (numel > 0) for (int i = 0; i < size.length; i++) last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
        } catch (ArithmeticException e) {
            throw new PickleError("a tensor of size " + java.util.Arrays.toString(size) + " and stride " + java.util.Arrays.toString(stride) + " is too large to address");
        }
        if (numel > 0 ? last >= s.numel() : offset > s.numel()) {
            throw new PickleError("a tensor of size " + java.util.Arrays.toString(size) + ", stride " + java.util.Arrays.toString(stride)
                    + " and storage offset " + offset + " reaches element " + (numel > 0 ? last : offset) + " of storage \"" + Py.printable(s.key(), 40)
                    + "\", which holds only " + s.numel() + " elements: out of bounds");
        }
        return new TensorRef(s, offset, shape, stride);
    }

    private static long nonNegative(Object o, String what) {
        if (!(o instanceof Long v)) throw new PickleError("a tensor's " + what + " is " + Py.describe(o) + ", not an int");
        if (v < 0) throw new PickleError("a tensor's " + what + " is negative (" + v + ")");
        return v;
    }

    private static long[] longs(Object o, String what) {
        List<Object> items;
        if (o instanceof Tuple t) items = java.util.Arrays.asList(t.items);
        else if (o instanceof PyList l) items = l.items;
        else throw new PickleError("a tensor's " + what + " is " + Py.describe(o) + ", not a tuple of ints");
        if (items.size() > MAX_DIMS) throw new PickleError("a tensor has " + items.size() + " dimensions, more than " + MAX_DIMS);
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) out[i] = nonNegative(items.get(i), what);
        return out;
    }
}
