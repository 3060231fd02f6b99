package dev.moesr.tensor.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Splits index ranges over the CPU threads. The thread count is the number of processors, or
 * the system property {@code moesr.threads}.
 */
public final class Parallel {
    private static final int THREADS = Integer.getInteger("moesr.threads", Runtime.getRuntime().availableProcessors());
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS) : null;

    private Parallel() {}

    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    public static int threads() { return THREADS; }

    /**
     * Runs body over [0, n) in chunks of at least {@code grain} indices; sequential when the
     * work is small, on one thread, or already inside the pool.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = Math.min(THREADS * 4, Math.max(1, n / Math.max(1, grain)));
        if (POOL == null || chunks <= 1 || ForkJoinTask.getPool() == POOL) {
            body.run(0, n);
            return;
        }
        POOL.invoke(new Split(0, chunks, n, chunks, body));
    }

    private static final class Split extends RecursiveAction {
        private final int lo, hi, n, chunks;
        private final RangeBody body;

        Split(int lo, int hi, int n, int chunks, RangeBody body) {
            this.lo = lo; this.hi = hi; this.n = n; this.chunks = chunks; this.body = body;
        }

        @Override protected void compute() {
            if (hi - lo == 1) {
                body.run((int) ((long) n * lo / chunks), (int) ((long) n * hi / chunks));
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Split(lo, mid, n, chunks, body), new Split(mid, hi, n, chunks, body));
        }
    }
}
