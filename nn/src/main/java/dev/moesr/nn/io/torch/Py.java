package dev.moesr.nn.io.torch;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The values the restricted unpickler builds. Python's str, int, float, bool, None and bytes are
 * String, Long (or BigInteger), Double, Boolean, null and byte[]; containers, globals, storages
 * and tensors are the classes here. The mutable containers compare by identity (a pickle can make
 * them cyclic), so nothing here ever walks a structure from the file recursively.
 */
final class Py {
    private Py() {}

    /** A global the allow-list knows (the unpickler never builds any other). Inert: nothing is called. */
    record Global(String module, String name, Unpickler.Allowed kind) {
        String qualified() { return module + "." + name; }
    }

    /** A Python tuple. Equality and hash only for flat tuples of scalars, the only ones accepted as dict keys. */
    static final class Tuple {
        final Object[] items;
        final int depth;

        Tuple(Object[] items) {
            this.items = items;
            int d = 0;
            for (Object o : items) d = Math.max(d, depthOf(o));
            this.depth = d + 1;
        }

        int size() { return items.length; }

        Object get(int i) { return items[i]; }

        @Override public boolean equals(Object o) { return o instanceof Tuple t && Arrays.equals(items, t.items); }

        @Override public int hashCode() { return Arrays.hashCode(items); }
    }

    /** A Python list. */
    static final class PyList {
        final List<Object> items = new ArrayList<>();
        int depth = 1;
    }

    /** A Python set or frozenset (items: scalars or flat tuples of scalars). */
    static final class PySet {
        final Set<Object> items = new LinkedHashSet<>();
        final boolean frozen;
        int depth = 1;

        PySet(boolean frozen) { this.frozen = frozen; }
    }

    /**
     * A dict, an OrderedDict, or a dict-like data object of an allowed class (Lightning's
     * AttributeDict, argparse.Namespace); {@code cls} is null for a plain dict. {@code state} is
     * what a BUILD gave an OrderedDict (a state dict's {@code _metadata}); it is kept, not interpreted.
     */
    static final class PyDict {
        final Map<Object, Object> items = new LinkedHashMap<>();
        final Global cls;
        int depth = 1;
        Object state;

        PyDict(Global cls) { this.cls = cls; }
    }

    /** A storage named by a persistent id: elements of one dtype, read lazily from the file. */
    record StorageRef(String key, StorageType type, long numel, String location) {
        long nbytes() { return numel * type.bytes; }
    }

    /** A tensor: a strided view of a storage, as {@code torch._utils._rebuild_tensor_v2} describes it. */
    record TensorRef(StorageRef storage, long offset, int[] shape, long[] stride) {
        long numel() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }
    }

    static int depthOf(Object o) {
        if (o instanceof Tuple t) return t.depth;
        if (o instanceof PyList l) return l.depth;
        if (o instanceof PyDict d) return d.depth;
        if (o instanceof PySet s) return s.depth;
        return 0;
    }

    static boolean isScalar(Object o) {
        return o == null || o instanceof String || o instanceof Long || o instanceof BigInteger || o instanceof Double || o instanceof Boolean;
    }

    /** A short description of a value for messages; never walks into containers. */
    static String describe(Object o) {
        if (o == null) return "None";
        if (o instanceof String s) return "a str \"" + printable(s, 40) + "\"";
        if (o instanceof Long || o instanceof BigInteger) return "an int " + o;
        if (o instanceof Double) return "a float " + o;
        if (o instanceof Boolean b) return "a bool " + (b ? "True" : "False");
        if (o instanceof byte[] b) return "bytes of length " + b.length;
        if (o instanceof Tuple t) return "a tuple of " + t.size();
        if (o instanceof PyList l) return "a list of " + l.items.size();
        if (o instanceof PySet s) return (s.frozen ? "a frozenset of " : "a set of ") + s.items.size();
        if (o instanceof PyDict d) return (d.cls == null ? "a dict" : "a " + d.cls.qualified()) + " of " + d.items.size();
        if (o instanceof Global g) return "the global " + g.qualified();
        if (o instanceof StorageRef s) return "a storage";
        if (o instanceof TensorRef) return "a tensor";
        return o.getClass().getSimpleName();
    }

    /** {@code s} cut to {@code max} characters with control and non-ASCII characters escaped, safe for one-line messages. */
    static String printable(String s, int max) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < max; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7F) b.append(c);
            else b.append(String.format("\\u%04x", (int) c));
        }
        if (b.length() >= max && s.length() > max) b.append("...");
        return b.toString();
    }
}
