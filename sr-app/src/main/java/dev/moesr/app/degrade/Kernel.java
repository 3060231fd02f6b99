package dev.moesr.app.degrade;

/**
 * A square filter kernel of odd side, row-major [y][x] weights in double, applied by
 * correlation (as PyTorch's conv2d does) centred on the middle tap.
 */
public record Kernel(int size, double[] weights) {
    public Kernel {
        if (size < 1 || size % 2 == 0) throw new IllegalArgumentException("a kernel needs an odd side, got " + size);
        if (weights.length != size * size) throw new IllegalArgumentException(weights.length + " weights for a " + size + "x" + size + " kernel");
    }

    public double get(int y, int x) { return weights[y * size + x]; }

    public double sum() {
        double s = 0;
        for (double w : weights) s += w;
        return s;
    }

    /** The single-tap kernel that leaves an image as it is. */
    public static Kernel identity() {
        return new Kernel(1, new double[] {1});
    }

    public boolean isIdentity() {
        int c = size / 2;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] != (i == c * size + c ? 1 : 0)) return false;
        }
        return true;
    }

    /** The kernel with zeros around it, to side {@code target} (as Real-ESRGAN pads its kernels to 21). */
    public Kernel padTo(int target) {
        if (target < size || (target - size) % 2 != 0) {
            throw new IllegalArgumentException("cannot pad a " + size + "x" + size + " kernel to " + target + "x" + target);
        }
        int p = (target - size) / 2;
        double[] out = new double[target * target];
        for (int y = 0; y < size; y++) System.arraycopy(weights, y * size, out, (y + p) * target + p, size);
        return new Kernel(target, out);
    }

    /**
     * The kernel without its all-zero border rings. Filtering with it gives the same result as
     * with the padded kernel (the zero taps add nothing, the rest see the same pixels) at a
     * fraction of the cost.
     */
    public Kernel trimmed() {
        int p = 0;
        while (p < size / 2 && ringIsZero(p)) p++;
        if (p == 0) return this;
        int s = size - 2 * p;
        double[] out = new double[s * s];
        for (int y = 0; y < s; y++) System.arraycopy(weights, (y + p) * size + p, out, y * s, s);
        return new Kernel(s, out);
    }

    private boolean ringIsZero(int p) {
        int last = size - 1 - p;
        for (int i = p; i <= last; i++) {
            if (get(p, i) != 0 || get(last, i) != 0 || get(i, p) != 0 || get(i, last) != 0) return false;
        }
        return true;
    }
}
