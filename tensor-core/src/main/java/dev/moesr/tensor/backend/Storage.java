package dev.moesr.tensor.backend;

/**
 * A run of float32 slots on one device. A view shares its root's memory at an offset; the root
 * is reference counted and its memory goes back to the backend when the last holder releases it.
 * Backends receive storages and never see offsets: a view is addressed like any other storage.
 */
public abstract class Storage {
    private final Storage root;
    private final long offset;
    private final long length;
    private int refs = 1;

    /** A new root of {@code length} floats. */
    protected Storage(long length) {
        this.root = null;
        this.offset = 0;
        this.length = length;
    }

    /** A view of {@code root} (itself a root) at {@code offset}; retains the root. */
    protected Storage(Storage root, long offset, long length) {
        if (root.root != null) throw new IllegalArgumentException("views are taken of roots");
        if (offset < 0 || length < 0 || offset + length > root.length) {
            throw new IllegalArgumentException("view [" + offset + ", " + (offset + length) + ") outside storage of " + root.length);
        }
        this.root = root;
        this.offset = offset;
        this.length = length;
        root.retain();
    }

    public abstract Backend backend();

    /** Number of float slots. */
    public final long length() { return length; }

    /** Offset of this view within its root, in floats (0 for a root). */
    public final long offset() { return offset; }

    /** The storage that owns the memory (this one for a root). */
    public final Storage root() { return root == null ? this : root; }

    /** A view of {@code len} floats starting at {@code off} within this storage. */
    public final Storage view(long off, long len) {
        return makeView(root(), offset + off, len);
    }

    protected abstract Storage makeView(Storage root, long offset, long length);

    /** Frees the memory of a root; called once, when its last reference goes. */
    protected abstract void free();

    public final synchronized boolean isReleased() { return root().refs <= 0; }

    public final void retain() {
        Storage r = root();
        synchronized (r) {
            if (r.refs <= 0) throw new IllegalStateException("storage was already released");
            r.refs++;
        }
    }

    /** Drops one reference (a view drops its root's); frees the root at zero. Idempotent per holder is the caller's job. */
    public final void release() {
        Storage r = root();
        boolean last;
        synchronized (r) {
            if (r.refs <= 0) return;
            last = --r.refs == 0;
        }
        if (last) r.free();
    }
}
