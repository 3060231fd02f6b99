package dev.moesr.tensor.backend;

import java.io.PrintStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Time per backend operation, for finding where a model spends its time: with
 * {@code -Dmoesr.profile=true} every backend is wrapped so that each call waits for the device
 * ({@link Backend#synchronize()}) and adds its wall time to its operation's total (keyed by the
 * method and, for unary, binary and reduce, the op). The table goes to stderr at exit. Waiting
 * after every call removes the overlap of host and device work, so the totals add up to more
 * than an unprofiled run takes: read them as shares, not as the run's time.
 */
public final class ProfilingBackend implements InvocationHandler {
    static final boolean ENABLED = Boolean.getBoolean("moesr.profile");

    private static final Map<String, LongAdder[]> TOTALS = new ConcurrentHashMap<>();
    private static volatile boolean hookInstalled;

    private final Backend target;

    private ProfilingBackend(Backend target) { this.target = target; }

    /** Whether -Dmoesr.profile=true was given: then tensors reach their backend through {@link Backends#get}. */
    public static boolean enabled() { return ENABLED; }

    /** The backend itself, or when profiling is on, a wrapper that times each of its calls. */
    static Backend maybeWrap(Backend b) {
        if (!ENABLED) return b;
        installHook();
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, new ProfilingBackend(b));
    }

    @Override public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        boolean timed = !name.equals("synchronize") && !name.equals("device") && !name.equals("bytesInUse") && !name.equals("peakBytes");
        long t0 = 0;
        if (timed) {
            target.synchronize();
            t0 = System.nanoTime();
        }
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        } finally {
            if (timed) {
                target.synchronize();
                String key = args != null && args.length > 0 && args[0] instanceof Enum<?> op ? name + " " + op.name() : name;
                LongAdder[] t = TOTALS.computeIfAbsent(key, k -> new LongAdder[] {new LongAdder(), new LongAdder()});
                t[0].increment();
                t[1].add(System.nanoTime() - t0);
            }
        }
    }

    private static synchronized void installHook() {
        if (hookInstalled) return;
        hookInstalled = true;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> report(System.err), "moesr-profile-report"));
    }

    /** Forgets what was timed so far (a benchmark calls it after its warm-up runs). */
    public static void reset() { TOTALS.clear(); }

    /** The table: operations by total time, with calls, total, mean and share. */
    public static void report(PrintStream out) {
        List<Map.Entry<String, LongAdder[]>> rows = new ArrayList<>(TOTALS.entrySet());
        rows.sort((a, b) -> Long.compare(b.getValue()[1].sum(), a.getValue()[1].sum()));
        double all = rows.stream().mapToLong(e -> e.getValue()[1].sum()).sum();
        if (rows.isEmpty()) return;
        out.println("moesr profile (each backend call timed to completion; after warm-up where a benchmark ran one):");
        out.printf(Locale.ROOT, "  %-34s %9s %11s %10s %7s%n", "operation", "calls", "total ms", "mean us", "share");
        for (Map.Entry<String, LongAdder[]> e : rows) {
            long calls = e.getValue()[0].sum(), nanos = e.getValue()[1].sum();
            out.printf(Locale.ROOT, "  %-34s %9d %11.1f %10.1f %6.1f%%%n", e.getKey(), calls, nanos / 1e6, nanos / 1e3 / Math.max(1, calls),
                    100 * nanos / Math.max(1.0, all));
        }
    }
}
