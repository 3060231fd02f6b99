package dev.moesr.tensor.bench;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;
import dev.moesr.tensor.backend.ConvGeometry;
import dev.moesr.tensor.backend.Storage;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * CPU conv2d: forward, backward data and backward filter of an NCHW convolution with padding
 * (kernel-1)/2, by default the `sr-app bench conv2d` shape (1x64x128x128, 3x3, 64 to 64).
 * Kernels run through the backend into reused outputs. Not part of the unit tests; run as
 * described in docs/benchmarks.md. GFLOP/s = 2 * N*O*H*W * C/groups*k*k / time for each.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ConvBenchmark {
    /** channels:kernel:groups, e.g. 64:3:1 (a UNet block), 64:1:1 (pointwise), 64:3:64 (depthwise). */
    @Param({"64:3:1", "64:1:1", "64:3:64"})
    String layer;

    @Param({"128"})
    int size;

    private ConvGeometry g;
    private Tensor x, w, gradOut;
    private Storage out, gradX, gradW;

    @Setup(Level.Trial)
    public void setUp() {
        String[] p = layer.split(":");
        int c = Integer.parseInt(p[0]), k = Integer.parseInt(p[1]), groups = Integer.parseInt(p[2]);
        g = new ConvGeometry(1, c, size, size, c, k, k, 1, 1, (k - 1) / 2, (k - 1) / 2, 1, 1, groups);
        SplittableRandom r = new SplittableRandom(2);
        x = GemmBenchmark.random(r, 1, c, size, size);
        w = GemmBenchmark.random(r, c, c / groups, k, k);
        gradOut = GemmBenchmark.random(r, 1, c, g.outH(), g.outW());
        out = Backends.cpu().allocate(gradOut.numel());
        gradX = Backends.cpu().allocate(x.numel());
        gradW = Backends.cpu().allocate(w.numel());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, w, gradOut}) t.release();
        for (Storage s : new Storage[] {out, gradX, gradW}) s.release();
    }

    @Benchmark
    public Storage forward() {
        Backends.cpu().conv2d(x.storage(), w.storage(), out, g);
        return out;
    }

    @Benchmark
    public Storage backwardData() {
        Backends.cpu().conv2dBackwardData(gradOut.storage(), w.storage(), gradX, g);
        return gradX;
    }

    @Benchmark
    public Storage backwardFilter() {
        Backends.cpu().conv2dBackwardFilter(x.storage(), gradOut.storage(), gradW, g);
        return gradW;
    }
}
