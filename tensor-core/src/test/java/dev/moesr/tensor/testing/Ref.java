package dev.moesr.tensor.testing;

import java.util.Arrays;

/** A double-precision array with a shape: the currency of reference implementations. */
public final class Ref {
    public final double[] v;
    public final int[] shape;

    public Ref(double[] v, int... shape) {
        if (Gen.numel(shape) * 1L != v.length) throw new IllegalArgumentException(v.length + " values for shape " + Arrays.toString(shape));
        this.v = v;
        this.shape = shape.clone();
    }

    public static Ref zeros(int... shape) { return new Ref(new double[Gen.numel(shape)], shape); }

    public int rank() { return shape.length; }

    public int numel() { return v.length; }

    /** Row-major strides. */
    public int[] strides() {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Flat index of a multi-index. */
    public int at(int... idx) {
        int[] st = strides();
        int o = 0;
        for (int i = 0; i < idx.length; i++) o += idx[i] * st[i];
        return o;
    }

    /** The multi-index of a flat index. */
    public int[] index(int flat) {
        int[] idx = new int[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = flat % shape[i];
            flat /= shape[i];
        }
        return idx;
    }

    public double get(int... idx) { return v[at(idx)]; }

    /** Value at a broadcast read: {@code idx} is an index of a (larger-rank) output shape. */
    public double broadcastGet(int[] outIdx) {
        int off = outIdx.length - shape.length;
        int o = 0;
        int[] st = strides();
        for (int i = 0; i < shape.length; i++) o += (shape[i] == 1 ? 0 : outIdx[i + off]) * st[i];
        return v[o];
    }
}
