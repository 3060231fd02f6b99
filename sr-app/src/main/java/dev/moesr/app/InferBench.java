package dev.moesr.app;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.infer.DefaultModel;
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
        description = {"Time whole super-resolutions of an image, phase by phase: the median of --reps runs (default 3 here)",
                "after --warmup runs (default 1 here), and the peak device and heap memory.",
                "The model: --model FILE, --config NAME for a preset with freshly initialised weights (same work and memory, noise out),",
                "or neither for the shipped moesr-x4-small. Unset sampling options take the model's defaults, as infer does.",
                "Example: java -jar sr-app.jar bench infer --input lr-256.png"})
final class InferBench implements Callable<Integer> {
    @Mixin BenchOptions o;

    @Option(names = "--input", required = true, paramLabel = "IMAGE", description = "The low-resolution image.")
    Path input;

    @Option(names = "--model", paramLabel = "FILE", description = "A model file (as infer takes).")
    Path model;

    @Option(names = "--config", paramLabel = "NAME", description = "A preset with freshly initialised weights: moesr-x8, moesr-x4 or tiny.")
    String config;

    @Option(names = "--steps", paramLabel = "N", description = "Sampler steps (default: the model's; time grows linearly with it).")
    Integer steps;

    @Option(names = "--sampler", paramLabel = "NAME", description = "ddpm or ddim (default: the model's).")
    String sampler;

    @Option(names = "--tile", paramLabel = "N", description = "Latent tile size (default: the model's).")
    Integer tile;

    @Option(names = "--overlap", paramLabel = "N", description = "Latent tile overlap (default: the model's).")
    Integer overlap;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

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
        boolean repsGiven = spec.commandLine().getParseResult().hasMatchedOption("--reps");
        boolean warmupGiven = spec.commandLine().getParseResult().hasMatchedOption("--warmup");
        int reps = repsGiven ? o.reps : 3, warmup = warmupGiven ? o.warmup : 1;
        if (reps < 1 || warmup < 0) throw new IllegalArgumentException("--reps must be >= 1 and --warmup >= 0");
        long t0 = System.nanoTime();
        Path file = model != null ? model : config == null ? DefaultModel.require() : null;
        SuperResolver sr = file != null ? SuperResolver.open(file, device)
                : SuperResolver.of(new MoesrModel(MoesrConfig.byName(config), new Philox(o.seed)), device);
        long[] samplingEnd = {0};
        SuperResolver.Sampler chosen = sampler == null ? null : switch (sampler) {
            case "ddim" -> SuperResolver.Sampler.DDIM;
            case "ddpm" -> SuperResolver.Sampler.DDPM;
            default -> throw new IllegalArgumentException("--sampler must be ddpm or ddim, got '" + sampler + "'");
        };
        SuperResolver.Options opts = sr.effective(new SuperResolver.Options().steps(steps).sampler(chosen).seed(o.seed)
                .tile(tile).overlap(overlap).progress((phase, done, total) -> {
                    if (phase == SuperResolver.Phase.SAMPLING && done == total) samplingEnd[0] = System.nanoTime();
                }));
        long t1 = System.nanoTime();
        Image hr = null;
        double[] total = new double[reps], sampling = new double[reps], decoding = new double[reps];
        try {
            for (int r = -warmup; r < reps; r++) {
                samplingEnd[0] = 0;
                long start = System.nanoTime();
                hr = sr.upscale(lr, opts);
                backend.synchronize();
                long end = System.nanoTime();
                if (r >= 0) {
                    total[r] = (end - start) / 1e9;
                    sampling[r] = ((samplingEnd[0] == 0 ? end : samplingEnd[0]) - start) / 1e9;
                    decoding[r] = samplingEnd[0] == 0 ? 0.0 : (end - samplingEnd[0]) / 1e9;
                }
            }
        } finally {
            sr.close();
        }
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
        m.put("model", file != null ? file.toString() : config + " (freshly initialised)");
        m.put("input", lr.width() + "x" + lr.height());
        m.put("output", hr.width() + "x" + hr.height());
        m.put("sampling", opts.describe());
        m.put("warmup_runs", warmup);
        m.put("runs", reps);
        m.put("load_seconds", (t1 - t0) / 1e9);
        m.put("sampling_seconds", median(sampling));
        m.put("decoding_seconds", median(decoding));
        m.put("total_seconds", median(total));
        m.put("total_seconds_each", java.util.Arrays.toString(total));
        m.put("device_peak_gib", backend.peakBytes() / (double) (1L << 30));
        m.put("heap_peak_gib", heapPeak() / (double) (1L << 30));
        m.put("heap_max_gib", Runtime.getRuntime().maxMemory() / (double) (1L << 30));
        System.out.println(o.json ? BenchRunner.toJson(m) : m.toString());
        return 0;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
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
