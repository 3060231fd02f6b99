package dev.moesr.app;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.Backends;
import dev.moesr.tensor.backend.ProfilingBackend;
import dev.moesr.tensor.cpu.CpuGemm;
import dev.moesr.tensor.cpu.Parallel;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Times one tensor operation through the public Tensor API on any device: warm-up runs, then
 * timed runs each ended by {@link Backend#synchronize()}, reported as the median.
 */
final class BenchRunner {
    private BenchRunner() {}

    /**
     * The measured result of one benchmark: floating-point operations or bytes moved per run
     * (either may be 0 when it does not apply), and extra fields for the report.
     */
    record Result(String op, Device device, Map<String, Object> shape, double flops, double bytes, double[] millis, BenchOptions o,
                  Map<String, Object> extra) {
        Result(String op, Device device, Map<String, Object> shape, double flops, double[] millis, BenchOptions o) {
            this(op, device, shape, flops, 0, millis, o, Map.of());
        }

        double median() {
            double[] s = millis.clone();
            Arrays.sort(s);
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }

        double gflops() { return flops / (median() * 1e6); }

        double gbPerSecond() { return bytes / (median() * 1e6); }

        String json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("op", op);
            m.put("device", device.toString());
            m.put("shape", shape);
            m.put("threads", Parallel.threads());
            if (device.kind() == Device.Kind.CPU) m.put("vector_api", CpuGemm.vectorized());
            m.put("warmup", o.warmup);
            m.put("warmup_seconds", o.warmupSeconds);
            m.put("reps", o.reps);
            m.put("ms", median());
            m.put("ms_min", Arrays.stream(millis).min().orElse(Double.NaN));
            if (flops > 0) m.put("gflops", gflops());
            if (bytes > 0) m.put("gb_per_s", gbPerSecond());
            m.putAll(extra);
            m.put("java", System.getProperty("java.version"));
            return toJson(m);
        }

        String sentence() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s %s on %s (%d threads%s): median %.3f ms over %d runs",
                    op, toJson(shape), device, Parallel.threads(),
                    device.kind() == Device.Kind.CPU && !CpuGemm.vectorized() ? ", scalar kernels: Vector API module not loaded" : "",
                    median(), millis.length));
            if (flops > 0) sb.append(String.format(Locale.ROOT, ", %.1f GFLOP/s", gflops()));
            if (bytes > 0) sb.append(String.format(Locale.ROOT, ", %.1f GB/s", gbPerSecond()));
            extra.forEach((k, v) -> sb.append(", ").append(k).append(' ').append(v instanceof Double d ? String.format(Locale.ROOT, "%.4g", d) : v));
            return sb.toString();
        }
    }

    /** Sets the CPU thread count; must run before the first tensor operation. */
    static void configureThreads(BenchOptions o) {
        if (o.threads != null) {
            if (o.threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + o.threads);
            System.setProperty("moesr.threads", Integer.toString(o.threads));
        }
        if (o.reps < 1) throw new IllegalArgumentException("--reps must be >= 1, got " + o.reps);
        if (o.warmup < 0) throw new IllegalArgumentException("--warmup must be >= 0, got " + o.warmup);
        if (!(o.warmupSeconds >= 0)) throw new IllegalArgumentException("--warmup-seconds must be >= 0, got " + o.warmupSeconds);
    }

    /** The device to run on, resolved (auto becomes cuda or cpu) and checked. */
    static Device device(BenchOptions o) {
        Device d = Backends.resolve(Device.parse(o.device));
        String why = Backends.unavailableReason(d);
        if (why != null) throw new IllegalArgumentException("cannot benchmark on " + d + ": " + why);
        return d;
    }

    /** Uniform values in [-1, 1) on {@code device}. */
    static Tensor random(Device device, SplittableRandom r, int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("input of shape " + Arrays.toString(shape) + " is too large");
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return Tensor.of(device, v, shape);
    }

    /**
     * Runs {@code op} at least {@code warmup} times and for at least {@code warmupSeconds}, then
     * {@code reps} timed times; each timed run ends when the device is idle again.
     */
    static double[] time(Device device, BenchOptions o, Supplier<Tensor> op) {
        Backend backend = Backends.get(device);
        long warmupEnd = System.nanoTime() + (long) (o.warmupSeconds * 1e9);
        for (int i = 0; i < o.warmup || System.nanoTime() < warmupEnd; i++) once(backend, op);
        ProfilingBackend.reset();   // with -Dmoesr.profile=true, report the timed runs only
        double[] ms = new double[o.reps];
        for (int i = 0; i < o.reps; i++) ms[i] = once(backend, op);
        return ms;
    }

    /** One run in milliseconds, its results released. */
    private static double once(Backend backend, Supplier<Tensor> op) {
        try (Scope ignored = Scope.open()) {
            backend.synchronize();
            long t0 = System.nanoTime();
            op.get();
            backend.synchronize();
            return (System.nanoTime() - t0) / 1e6;
        }
    }

    /** Runs a benchmark; bad options and unusable devices end with their message on stderr and exit code 2, not a stack trace. */
    static int reportingBadInput(java.util.function.IntSupplier bench) {
        try {
            return bench.getAsInt();
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("sr-app bench: " + e.getMessage());
            return 2;
        }
    }

    static void print(Result r, PrintStream out) {
        out.println(r.o().json ? r.json() : r.sentence());
    }

    /** A small JSON writer for maps, strings, booleans and numbers (enough for these reports). */
    static String toJson(Object v) {
        if (v instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) sb.append(", ");
                first = false;
                sb.append(toJson(String.valueOf(e.getKey()))).append(": ").append(toJson(e.getValue()));
            }
            return sb.append('}').toString();
        }
        if (v instanceof String s) {
            StringBuilder sb = new StringBuilder();
            dev.moesr.nn.io.Json.writeString(s, sb);
            return sb.toString();
        }
        if (v instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) return "null";
            return String.format(Locale.ROOT, "%.4f", d);
        }
        return String.valueOf(v);
    }
}
