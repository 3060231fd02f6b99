package dev.moesr.app;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.infer.SuperResolver;
import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code bench infer}: one whole super-resolution of an image (tiled sampling, then the tiled
 * decoder), with the time of each phase and the peak memory of the device and of the Java heap.
 * The model is a file or a preset with freshly initialised weights (the output is then noise,
 * but the work and the memory are those of a trained model of that size).
 */
@Command(name = "infer", mixinStandardHelpOptions = true,
        description = {"Time one whole super-resolution of an image, phase by phase, and print the peak device and heap memory.",
                "The model: --model FILE, or --config NAME for a preset with freshly initialised weights (same work and memory, noise out)."})
final class InferBench implements Callable<Integer> {
    @Mixin BenchOptions o;

    @Option(names = "--input", required = true, paramLabel = "IMAGE", description = "The low-resolution image.")
    Path input;

    @Option(names = "--model", paramLabel = "FILE", description = "A model file (as infer takes).")
    Path model;

    @Option(names = "--config", paramLabel = "NAME", description = "A preset with freshly initialised weights: moesr-x8, moesr-x4 or tiny.")
    String config;

    @Option(names = "--steps", defaultValue = "1", paramLabel = "N", description = "DDIM steps (default: ${DEFAULT-VALUE}; time grows linearly with it).")
    int steps;

    @Option(names = "--tile", defaultValue = "128", paramLabel = "N", description = "Latent tile size (default: ${DEFAULT-VALUE}).")
    int tile;

    @Option(names = "--overlap", defaultValue = "32", paramLabel = "N", description = "Latent tile overlap (default: ${DEFAULT-VALUE}).")
    int overlap;

    @Option(names = "--output", paramLabel = "FILE", description = "Also write the result here (written atomically).")
    Path output;

    @Override public Integer call() {
        return BenchRunner.reportingBadInput(() -> {
            try {
                return measure();
            } catch (IOException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        });
    }

    private int measure() throws IOException {
        BenchRunner.configureThreads(o);
        if ((model == null) == (config == null)) throw new IllegalArgumentException("give exactly one of --model FILE and --config NAME");
        Device device = BenchRunner.device(o);
        Backend backend = Backends.get(device);
        Image lr;
        try {
            lr = ImageFiles.read(input);
        } catch (ImageException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        long t0 = System.nanoTime();
        SuperResolver sr = model != null ? SuperResolver.open(model, device)
                : SuperResolver.of(new MoesrModel(MoesrConfig.byName(config), new Philox(o.seed)), device);
        long[] samplingEnd = {0};
        SuperResolver.Options opts = new SuperResolver.Options().steps(steps).sampler(SuperResolver.Sampler.DDIM).seed(o.seed)
                .tile(tile).overlap(overlap).progress((phase, done, total) -> {
                    if (phase == SuperResolver.Phase.SAMPLING && done == total) samplingEnd[0] = System.nanoTime();
                });
        long t1 = System.nanoTime();
        Image hr;
        try {
            hr = sr.upscale(lr, opts);
            backend.synchronize();
        } finally {
            sr.close();
        }
        long t2 = System.nanoTime();
        if (output != null) {
            try {
                ImageFiles.write(output, hr);
            } catch (ImageException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", "infer");
        m.put("device", device.toString());
        m.put("model", model != null ? model.toString() : config + " (freshly initialised)");
        m.put("input", lr.width() + "x" + lr.height());
        m.put("output", hr.width() + "x" + hr.height());
        m.put("steps", steps);
        m.put("tile", tile);
        m.put("overlap", overlap);
        m.put("load_seconds", (t1 - t0) / 1e9);
        m.put("sampling_seconds", ((samplingEnd[0] == 0 ? t2 : samplingEnd[0]) - t1) / 1e9);
        m.put("decoding_seconds", samplingEnd[0] == 0 ? 0.0 : (t2 - samplingEnd[0]) / 1e9);
        m.put("total_seconds", (t2 - t1) / 1e9);
        m.put("device_peak_gib", backend.peakBytes() / (double) (1L << 30));
        m.put("heap_peak_gib", heapPeak() / (double) (1L << 30));
        m.put("heap_max_gib", Runtime.getRuntime().maxMemory() / (double) (1L << 30));
        System.out.println(o.json ? BenchRunner.toJson(m) : m.toString());
        return 0;
    }

    /** The largest heap use seen, summed over the heap pools (each pool's own peak: an upper bound). */
    private static long heapPeak() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) sum += p.getPeakUsage().getUsed();
        }
        return sum;
    }
}
