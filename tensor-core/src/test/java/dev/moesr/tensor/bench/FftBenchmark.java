package dev.moesr.tensor.bench;

import dev.moesr.tensor.Tensor;
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
 * CPU rfft2 and irfft2 (orthonormal) of {@code planes} real size x size planes, as the adaptive
 * frequency filters of a decoder tile run them, through the backend into reused outputs. Not
 * part of the unit tests; run as described in docs/benchmarks.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class FftBenchmark {
    @Param({"32"})
    int planes;

    /** A power of two (radix 2) or not (Bluestein). */
    @Param({"512", "500"})
    int size;

    private Tensor x, spectrum;
    private Storage out, back;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom r = new SplittableRandom(3);
        x = GemmBenchmark.random(r, planes, size, size);
        spectrum = GemmBenchmark.random(r, planes, size, (size / 2 + 1) * 2);   // interleaved complex
        out = Backends.cpu().allocate((long) planes * size * (size / 2 + 1) * 2);
        back = Backends.cpu().allocate((long) planes * size * size);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.release();
        spectrum.release();
        out.release();
        back.release();
    }

    @Benchmark
    public Storage rfft2() {
        Backends.cpu().rfft2(x.storage(), out, planes, size, size);
        return out;
    }

    @Benchmark
    public Storage irfft2() {
        Backends.cpu().irfft2(spectrum.storage(), back, planes, size, size);
        return back;
    }
}
