package dev.moesr.app;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code bench memory}: the memory-bound kernels (elementwise, softmax, group norm, reduction)
 * on one large tensor, each as bytes moved per second and as a fraction of a plain copy of the
 * same tensor measured in the same run. Bytes are the least each op must move: every input
 * read once and the output written once (a kernel that reads twice scores lower).
 */
@Command(name = "memory", mixinStandardHelpOptions = true,
        description = {"Time the memory-bound kernels on one large tensor and print each one's bandwidth and its ratio to a copy in the same run.",
                "Bytes counted: inputs read once and the output written once."})
final class MemoryBench implements Callable<Integer> {
    @Mixin BenchOptions o;

    @Option(names = "--floats", defaultValue = "67108864", paramLabel = "N",
            description = "Elements of the tensor, a multiple of 2^20 (default: ${DEFAULT-VALUE}, 256 MiB; 268435456 on a GPU).")
    long floats;

    @Override public Integer call() {
        return BenchRunner.reportingBadInput(this::measure);
    }

    private int measure() {
        BenchRunner.configureThreads(o);
        if (floats < (1 << 20) || floats % (1 << 20) != 0 || floats > (1L << 30)) {
            throw new IllegalArgumentException("--floats must be a multiple of 1048576 between 2^20 and 2^30, got " + floats);
        }
        Device device = BenchRunner.device(o);
        SplittableRandom r = new SplittableRandom(o.seed);
        int n = (int) floats;
        Tensor x = BenchRunner.random(device, r, n), y = BenchRunner.random(device, r, n);
        Tensor rows = x.reshape(n / 1024, 1024);
        Tensor images = x.reshape(n / (1 << 20), 256, 64, 64);
        Tensor w = BenchRunner.random(device, r, 256), b = BenchRunner.random(device, r, 256);
        long f = 4L * n;
        List<Op> ops = List.of(
                new Op("copy", x, 2 * f, x::copy),
                new Op("add", x, 3 * f, () -> x.add(y)),
                new Op("silu", x, 2 * f, x::silu),
                new Op("softmax rows of 1024", rows, 2 * f, () -> rows.softmax(1)),
                new Op("groupnorm+silu 32 groups", images, 2 * f, () -> images.groupNormSilu(32, w, b, 1e-5f)),
                new Op("sum rows of 1024", rows, f + f / 1024, () -> rows.sum(new int[] {1}, false)));
        BenchRunner.Result copy = null;
        for (Op op : ops) {
            Map<String, Object> shape = new LinkedHashMap<>();
            shape.put("dims", java.util.Arrays.toString(op.input.dims()));
            BenchRunner.Result res = new BenchRunner.Result(op.name, device, shape, 0, op.bytes, BenchRunner.time(device, o, op.fn), o, new LinkedHashMap<>());
            if (copy == null) copy = res;
            else res.extra().put("of_copy", res.gbPerSecond() / copy.gbPerSecond());
            BenchRunner.print(res, System.out);
        }
        return 0;
    }

    private record Op(String name, Tensor input, long bytes, Supplier<Tensor> fn) {}
}
