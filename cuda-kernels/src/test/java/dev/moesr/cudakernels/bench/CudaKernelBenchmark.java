package dev.moesr.cudakernels.bench;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.Backends;
import dev.moesr.tensor.backend.BinaryOp;
import dev.moesr.tensor.backend.ConvGeometry;
import dev.moesr.tensor.backend.ReduceOp;
import dev.moesr.tensor.backend.Storage;
import dev.moesr.tensor.backend.UnaryOp;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Each CUDA kernel and library call through the backend, into preallocated outputs, each
 * invocation ended by a device synchronisation (so the time is the GPU's plus one launch and
 * one wait). Elementwise ops run on {@code floats} elements; the library calls on the moesr-x8
 * UNet's shapes (matmul 4096^3, conv2d 3x3 160->160 on 9x128x128, rfft2 of 9x160x128x128).
 * Needs a CUDA device (the setup fails with the reason otherwise). Not part of the unit tests;
 * run on a GPU machine as docs/kernels.md says (tools/gpu-session.sh runs it with JMH=1).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class CudaKernelBenchmark {
    @Param({"copy", "add", "silu", "softmax", "groupnorm_silu", "sum_rows", "sum_all", "adam_step", "ema_update",
            "matmul", "conv2d", "conv2d_backward_data", "conv2d_backward_filter", "rfft2"})
    String op;

    /** Elements of the elementwise, normalisation and reduction cases (a multiple of 2^20). */
    @Param({"67108864"})
    int floats;

    private Backend gpu;
    private final List<Storage> live = new ArrayList<>();
    private Storage x, y, out, w, b, mean, rstd, m, v;
    private ConvGeometry conv;
    private Runnable body;

    private Storage random(SplittableRandom r, long n) {
        float[] h = new float[(int) n];
        for (int i = 0; i < h.length; i++) h[i] = (float) (r.nextDouble() * 2 - 1);
        Storage s = gpu.upload(h);
        live.add(s);
        return s;
    }

    private Storage empty(long n) {
        Storage s = gpu.allocate(n);
        live.add(s);
        return s;
    }

    @Setup(Level.Trial)
    public void setUp() {
        Device d = Device.cuda(0);
        String why = Backends.unavailableReason(d);
        if (why != null) throw new IllegalStateException("CudaKernelBenchmark needs a CUDA device: " + why);
        gpu = Backends.get(d);
        SplittableRandom r = new SplittableRandom(1);
        int n = floats;
        switch (op) {
            case "copy" -> { x = random(r, n); out = empty(n); body = () -> gpu.copy(x, new long[] {1}, out, new long[] {1}, new int[] {n}); }
            case "add" -> { x = random(r, n); y = random(r, n); out = empty(n);
                body = () -> gpu.binary(BinaryOp.ADD, x, new int[] {n}, y, new int[] {n}, out, new int[] {n}); }
            case "silu" -> { x = random(r, n); out = empty(n); body = () -> gpu.unary(UnaryOp.SILU, x, out, 0, 0); }
            case "softmax" -> { x = random(r, n); out = empty(n); body = () -> gpu.softmax(x, out, n / 1024, 1024, false); }
            case "groupnorm_silu" -> {
                x = random(r, n); out = empty(n); w = random(r, 256); b = random(r, 256);
                int samples = n / (256 * 4096);
                mean = empty((long) samples * 32); rstd = empty((long) samples * 32);
                body = () -> gpu.groupNorm(x, samples, 256, 4096, 32, w, b, 1e-5f, true, out, mean, rstd);
            }
            case "sum_rows" -> { x = random(r, n); out = empty(n / 1024);
                body = () -> gpu.reduce(ReduceOp.SUM, x, new int[] {n / 1024, 1024}, new boolean[] {false, true}, out); }
            case "sum_all" -> { x = random(r, n); out = empty(1); body = () -> gpu.reduce(ReduceOp.SUM, x, new int[] {n}, new boolean[] {true}, out); }
            case "adam_step" -> { x = random(r, n); y = random(r, n); m = empty(n); v = empty(n); gpu.fill(m, 0f); gpu.fill(v, 0f);
                body = () -> gpu.adamStep(x, y, m, v, 10, 1e-4f, 0.9f, 0.999f, 1e-8f, 0.01f, true); }
            case "ema_update" -> { x = random(r, n); y = random(r, n); body = () -> gpu.emaUpdate(x, y, 1e-4f); }
            case "matmul" -> { int s = 4096; x = random(r, (long) s * s); y = random(r, (long) s * s); out = empty((long) s * s);
                body = () -> gpu.matmul(x, y, out, 1, s, s, s, false, false, 0, 0, 0, 1f, 0f); }
            case "conv2d", "conv2d_backward_data", "conv2d_backward_filter" -> {
                conv = new ConvGeometry(9, 160, 128, 128, 160, 3, 3, 1, 1, 1, 1, 1, 1, 1);
                x = random(r, 9L * 160 * 128 * 128); w = random(r, 160L * 160 * 9); out = random(r, 9L * 160 * 128 * 128);
                Storage gx = empty(9L * 160 * 128 * 128), gw = empty(160L * 160 * 9);
                body = switch (op) {
                    case "conv2d" -> () -> gpu.conv2d(x, w, gx, conv);
                    case "conv2d_backward_data" -> () -> gpu.conv2dBackwardData(out, w, gx, conv);
                    default -> () -> gpu.conv2dBackwardFilter(x, out, gw, conv);
                };
            }
            case "rfft2" -> { x = random(r, 9L * 160 * 128 * 128); out = empty(9L * 160 * 128 * 65 * 2);
                body = () -> gpu.rfft2(x, out, 9 * 160, 128, 128); }
            default -> throw new IllegalArgumentException("unknown op " + op);
        }
    }

    @Benchmark
    public void run() {
        body.run();
        gpu.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        gpu.synchronize();
        for (Storage s : live) s.release();
        live.clear();
    }
}
