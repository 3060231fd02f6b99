package dev.moesr.app;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.ConvGeometry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/** {@code bench conv2d}: an NCHW convolution forward pass, by default 3x3, 64 to 64 channels, 1x64x128x128, padding 1. */
@Command(name = "conv2d", mixinStandardHelpOptions = true,
        description = "Time a float32 2-D convolution forward pass (NCHW input, (out, in/groups, kh, kw) weight, no bias).")
final class Conv2dBench implements Callable<Integer> {
    @Mixin BenchOptions o;

    @Option(names = "--batch", defaultValue = "1", paramLabel = "N", description = "Images (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--in-channels", defaultValue = "64", paramLabel = "C", description = "Input channels (default: ${DEFAULT-VALUE}).")
    int in;

    @Option(names = "--out-channels", defaultValue = "64", paramLabel = "O", description = "Output channels (default: ${DEFAULT-VALUE}).")
    int out;

    @Option(names = "--height", defaultValue = "128", paramLabel = "H", description = "Input height (default: ${DEFAULT-VALUE}).")
    int height;

    @Option(names = "--width", defaultValue = "128", paramLabel = "W", description = "Input width (default: ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--kernel", defaultValue = "3", paramLabel = "K", description = "Square kernel size (default: ${DEFAULT-VALUE}).")
    int kernel;

    @Option(names = "--stride", defaultValue = "1", paramLabel = "S", description = "Stride (default: ${DEFAULT-VALUE}).")
    int stride;

    @Option(names = "--padding", defaultValue = "1", paramLabel = "P", description = "Zero padding on each side (default: ${DEFAULT-VALUE}).")
    int padding;

    @Option(names = "--dilation", defaultValue = "1", paramLabel = "D", description = "Dilation (default: ${DEFAULT-VALUE}).")
    int dilation;

    @Option(names = "--groups", defaultValue = "1", paramLabel = "G", description = "Channel groups (default: ${DEFAULT-VALUE}).")
    int groups;

    @Override public Integer call() {
        return BenchRunner.reportingBadInput(this::measure);
    }

    private int measure() {
        BenchRunner.configureThreads(o);
        if (batch < 1 || in < 1 || out < 1 || height < 1 || width < 1 || kernel < 1) {
            throw new IllegalArgumentException("conv2d sizes must be >= 1");
        }
        // validates stride, padding, dilation, groups and that the kernel fits, with a clear message
        ConvGeometry g = new ConvGeometry(batch, in, height, width, out, kernel, kernel, stride, stride, padding, padding, dilation, dilation, groups);
        Device device = BenchRunner.device(o);
        SplittableRandom r = new SplittableRandom(o.seed);
        Tensor x = BenchRunner.random(device, r, batch, in, height, width);
        Tensor w = BenchRunner.random(device, r, out, in / groups, kernel, kernel);
        double[] ms = BenchRunner.time(device, o, () -> x.conv2d(w, null, stride, padding, dilation, groups));
        Map<String, Object> shape = new LinkedHashMap<>();
        shape.put("input", "[" + batch + ", " + in + ", " + height + ", " + width + "]");
        shape.put("weight", "[" + out + ", " + in / groups + ", " + kernel + ", " + kernel + "]");
        shape.put("output", "[" + batch + ", " + out + ", " + g.outH() + ", " + g.outW() + "]");
        shape.put("stride", stride);
        shape.put("padding", padding);
        shape.put("dilation", dilation);
        shape.put("groups", groups);
        BenchRunner.print(new BenchRunner.Result("conv2d", device, shape, g.flops(), ms, o), System.out);
        return 0;
    }
}
