package dev.moesr.tensor.bench;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;
import dev.moesr.tensor.backend.BinaryOp;
import dev.moesr.tensor.backend.Storage;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * CPU binary ops on [16, 128, 128, 128] through the backend into a reused output: an add of two
 * same-shape tensors (a residual) and a product with a per-channel [1, 128, 1, 1] vector (a
 * scale); the copy of the same tensor is the peer. Not part of the unit tests; see docs/benchmarks.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ElementwiseBenchmark {
    private static final int[] SHAPE = {16, 128, 128, 128}, CHANNEL = {1, 128, 1, 1};
    private Tensor a, b, scale;
    private Storage out;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom r = new SplittableRandom(4);
        a = GemmBenchmark.random(r, SHAPE);
        b = GemmBenchmark.random(r, SHAPE);
        scale = GemmBenchmark.random(r, CHANNEL);
        out = Backends.cpu().allocate(a.numel());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {a, b, scale}) t.release();
        out.release();
    }

    @Benchmark
    public Storage add() {
        Backends.cpu().binary(BinaryOp.ADD, a.storage(), SHAPE, b.storage(), SHAPE, out, SHAPE);
        return out;
    }

    @Benchmark
    public Storage mulChannel() {
        Backends.cpu().binary(BinaryOp.MUL, a.storage(), SHAPE, scale.storage(), CHANNEL, out, SHAPE);
        return out;
    }

    @Benchmark
    public Storage copy() {
        int n = (int) a.numel();
        Backends.cpu().copy(a.storage(), new long[] {1}, out, new long[] {1}, new int[] {n});
        return out;
    }
}
