package dev.moesr.app;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code bench groupnorm}: the fused group norm + SiLU kernel against the same computation
 * composed of tensor ops (mean, subtract, square, mean, rsqrt, multiply, weight, bias, SiLU: what
 * Norms did before the kernel existed), both timed in the same run, with their ratio.
 */
@Command(name = "groupnorm", mixinStandardHelpOptions = true,
        description = "Time group norm + SiLU fused in one kernel against the composed tensor ops, forward only, and print the ratio.")
final class GroupNormBench implements Callable<Integer> {
    @Mixin BenchOptions o;

    @Option(names = "--channels", defaultValue = "128", paramLabel = "C", description = "Channels (default: ${DEFAULT-VALUE}).")
    int channels;

    @Option(names = "--size", defaultValue = "256", paramLabel = "S", description = "Height and width (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--groups", defaultValue = "32", paramLabel = "G", description = "Groups (default: ${DEFAULT-VALUE}).")
    int groups;

    @Override public Integer call() {
        return BenchRunner.reportingBadInput(this::measure);
    }

    private int measure() {
        BenchRunner.configureThreads(o);
        if (channels < 1 || size < 1 || groups < 1 || channels % groups != 0) {
            throw new IllegalArgumentException("need channels divisible by groups and positive sizes, got " + channels + " channels, " + groups
                    + " groups, size " + size);
        }
        Device device = BenchRunner.device(o);
        SplittableRandom r = new SplittableRandom(o.seed);
        Tensor x = BenchRunner.random(device, r, 1, channels, size, size);
        Tensor w = BenchRunner.random(device, r, channels), b = BenchRunner.random(device, r, channels);
        float eps = 1e-5f;
        double[] fused = BenchRunner.time(device, o, () -> x.groupNormSilu(groups, w, b, eps));
        double[] composed = BenchRunner.time(device, o, () -> composed(x, groups, w, b, eps));
        Map<String, Object> shape = new LinkedHashMap<>();
        shape.put("n", 1);
        shape.put("c", channels);
        shape.put("h", size);
        shape.put("w", size);
        shape.put("groups", groups);
        // about ten floating-point operations per element (statistics, normalisation, affine, SiLU)
        double flops = 10.0 * x.numel();
        BenchRunner.Result f = new BenchRunner.Result("groupnorm+silu fused", device, shape, flops, fused, o);
        BenchRunner.Result c = new BenchRunner.Result("groupnorm+silu composed", device, shape, flops, composed, o);
        BenchRunner.print(f, System.out);
        BenchRunner.print(c, System.out);
        double ratio = c.median() / f.median();
        System.out.println(o.json ? BenchRunner.toJson(Map.of("composed_over_fused", ratio))
                : String.format(Locale.ROOT, "fused is %.2f times as fast as composed (same run)", ratio));
        return 0;
    }

    private static Tensor composed(Tensor x, int groups, Tensor w, Tensor b, float eps) {
        int n = x.dim(0), c = x.dim(1);
        Tensor g = x.reshape(n, groups, c / groups * x.dim(2) * x.dim(3));
        Tensor centred = g.sub(g.mean(new int[] {2}, true));
        Tensor normed = centred.mul(centred.square().mean(new int[] {2}, true).add(eps).rsqrt()).reshape(x.dims());
        return normed.mul(w.reshape(1, c, 1, 1)).add(b.reshape(1, c, 1, 1)).silu();
    }
}
