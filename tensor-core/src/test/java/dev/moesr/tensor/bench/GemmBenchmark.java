package dev.moesr.tensor.bench;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.Backends;
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
 * CPU GEMM throughput: {@code Tensor.matmul} of square float32 matrices, and the backend's
 * transposed-B product (the shape of a linear layer's backward pass). Not part of the unit
 * tests; run as described in docs/benchmarks.md. GFLOP/s = 2 size^3 / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBenchmark {
    @Param({"128", "512", "1024"})
    int size;

    private Tensor a, b;
    private Storage out;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom r = new SplittableRandom(1);
        a = random(r, size, size);
        b = random(r, size, size);
        out = Backends.cpu().allocate((long) size * size);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.release();
        b.release();
        out.release();
    }

    static Tensor random(SplittableRandom r, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return Tensor.of(v, shape);
    }

    /** The public API, allocation of the result included. */
    @Benchmark
    public float matmul() {
        Tensor c = a.matmul(b);
        float first = c.storage().length() > 0 ? 1f : 0f;
        c.release();
        return first;
    }

    /** C = A B^T straight through the backend, into a reused output. */
    @Benchmark
    public Storage matmulTransposedB() {
        Backend be = Backends.cpu();
        be.matmul(a.storage(), b.storage(), out, 1, size, size, size, false, true, 0, 0, 0, 1f, 0f);
        return out;
    }
}
