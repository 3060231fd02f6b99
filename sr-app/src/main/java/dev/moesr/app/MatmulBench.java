package dev.moesr.app;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/** {@code bench matmul}: [batch,] m x k times k x n in float32. */
@Command(name = "matmul", mixinStandardHelpOptions = true,
        description = "Time a float32 matrix product C = A B (A m x k, B k x n, optionally batched).")
final class MatmulBench implements Callable<Integer> {
    @Mixin BenchOptions o;

    @Option(names = "--size", defaultValue = "1024", paramLabel = "N",
            description = "m = n = k unless set one by one (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "-m", paramLabel = "M", description = "Rows of A and C.") Integer m;

    @Option(names = "-n", paramLabel = "N", description = "Columns of B and C.") Integer n;

    @Option(names = "-k", paramLabel = "K", description = "Columns of A, rows of B.") Integer k;

    @Option(names = "--batch", defaultValue = "1", paramLabel = "B",
            description = "Independent products in one call (default: ${DEFAULT-VALUE}).")
    int batch;

    @Override public Integer call() {
        return BenchRunner.reportingBadInput(this::measure);
    }

    private int measure() {
        BenchRunner.configureThreads(o);
        int mm = m != null ? m : size, nn = n != null ? n : size, kk = k != null ? k : size;
        if (mm < 1 || nn < 1 || kk < 1 || batch < 1) {
            throw new IllegalArgumentException("matmul sizes must be >= 1, got batch " + batch + ", m " + mm + ", n " + nn + ", k " + kk);
        }
        Device device = BenchRunner.device(o);
        SplittableRandom r = new SplittableRandom(o.seed);
        Tensor a = batch == 1 ? BenchRunner.random(device, r, mm, kk) : BenchRunner.random(device, r, batch, mm, kk);
        Tensor b = batch == 1 ? BenchRunner.random(device, r, kk, nn) : BenchRunner.random(device, r, batch, kk, nn);
        double[] ms = BenchRunner.time(device, o, () -> a.matmul(b));
        Map<String, Object> shape = new LinkedHashMap<>();
        shape.put("batch", batch);
        shape.put("m", mm);
        shape.put("n", nn);
        shape.put("k", kk);
        BenchRunner.print(new BenchRunner.Result("matmul", device, shape, 2.0 * batch * mm * nn * kk, ms, o), System.out);
        return 0;
    }
}
