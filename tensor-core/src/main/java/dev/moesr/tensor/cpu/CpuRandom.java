package dev.moesr.tensor.cpu;

import dev.moesr.tensor.Philox;

/**
 * Philox uniform and normal streams; native/random.cu computes the same bits. Element i of a
 * tensor drawn at (seed, counter) comes from block counter + i/4 (see {@link Philox#word}).
 */
final class CpuRandom {
    private CpuRandom() {}

    /** Uniform float in [0, 1) from the top 24 bits of a word (exact). */
    static float uniform(int word) {
        return (word >>> 8) * 0x1p-24f;
    }

    /** sqrt(-2 ln u1) with u1 = (top 24 bits + 1) / 2^24 in (0, 1]: the Box-Muller radius. */
    static double radius(int wa) {
        double u1 = ((wa >>> 8) + 1) * 0x1p-24;
        return Math.sqrt(-2.0 * PortableMath.log(u1));
    }

    /** The first normal of the Box-Muller pair (wa, wb): r cos(2 pi u2). */
    static float normalCos(double radius, int wb) {
        return (float) (radius * PortableMath.cos2pi((wb >>> 8) * 0x1p-24));
    }

    /** The second normal of the pair: r sin(2 pi u2). */
    static float normalSin(double radius, int wb) {
        return (float) (radius * PortableMath.sin2pi((wb >>> 8) * 0x1p-24));
    }

    static void uniform(CpuStorage out, long seed, long counter) {
        forEachBlock(out, seed, counter, (w, o, at, count) -> {
            for (int k = 0; k < count; k++) o[at + k] = uniform(w[k]);
        });
    }

    static void normal(CpuStorage out, long seed, long counter) {
        forEachBlock(out, seed, counter, (w, o, at, count) -> {
            double r0 = radius(w[0]);
            o[at] = normalCos(r0, w[1]);
            if (count > 1) o[at + 1] = normalSin(r0, w[1]);
            if (count > 2) {
                double r1 = radius(w[2]);
                o[at + 2] = normalCos(r1, w[3]);
                if (count > 3) o[at + 3] = normalSin(r1, w[3]);
            }
        });
    }

    @FunctionalInterface
    private interface BlockBody {
        /** Writes {@code count} (1 to 4) values made from the block's words {@code w} at {@code o[at..]}. */
        void run(int[] w, float[] o, int at, int count);
    }

    private static void forEachBlock(CpuStorage out, long seed, long counter, BlockBody body) {
        long n = out.length();
        int blocks = (int) ((n + 3) / 4);
        int k0 = (int) seed, k1 = (int) (seed >>> 32);
        Parallel.forRange(blocks, 2048, (from, to) -> {
            int[] w = new int[4];
            for (int b = from; b < to; b++) {
                long c = counter + b;
                Philox.block((int) c, (int) (c >>> 32), 0, 0, k0, k1, w);
                int i = 4 * b;
                body.run(w, out.data, out.base + i, (int) Math.min(4, n - i));
            }
        });
    }
}
