package dev.moesr.app;

import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.sampling.NoiseSchedule;
import dev.moesr.diffusion.train.Stage1Trainer;
import dev.moesr.diffusion.unet.ExpertSharing;
import dev.moesr.diffusion.unet.UNet;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code bench unet}: one denoising step of a preset's UNet (one Sampling expert, freshly
 * initialised) on random latents: {@code sample} is one forward pass as the sampler makes it,
 * {@code train} one whole stage-1 optimiser step (noise, forward, MSE, backward, AdamW, EMA and
 * the Space-MoE weight sharing). Prints the median time and the backend's peak memory.
 */
@Command(name = "unet", mixinStandardHelpOptions = true,
        description = {"Time one sampling step (a UNet forward pass) or one stage-1 training step of a preset's UNet on random latents,",
                "and print the backend's peak memory. The reference (PyTorch, H200): 21.8 ms per sampling step at batch 1,",
                "156 ms per training step at batch 9 for moesr-x8."})
final class UnetBench implements Callable<Integer> {
    @Mixin BenchOptions o;

    @Option(names = "--config", defaultValue = "moesr-x8", paramLabel = "NAME",
            description = "Model preset: moesr-x8, moesr-x4 or tiny (default: ${DEFAULT-VALUE}).")
    String config;

    @Option(names = "--mode", defaultValue = "sample", paramLabel = "sample|train",
            description = "sample: one forward pass without gradients; train: one optimiser step (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--batch", paramLabel = "B", description = "Latents per step (default: 1 to sample, 9 to train, as the paper).")
    Integer batch;

    @Option(names = "--latent", defaultValue = "128", paramLabel = "S",
            description = "Latent height and width: a 512x512 image has 128x128 latents (default: ${DEFAULT-VALUE}).")
    int latent;

    @Override public Integer call() {
        return BenchRunner.reportingBadInput(this::measure);
    }

    private int measure() {
        BenchRunner.configureThreads(o);
        boolean train = switch (mode) {
            case "sample" -> false;
            case "train" -> true;
            default -> throw new IllegalArgumentException("--mode must be sample or train, got '" + mode + "'");
        };
        int b = batch != null ? batch : train ? 9 : 1;
        if (b < 1 || latent < 8) throw new IllegalArgumentException("need --batch >= 1 and --latent >= 8, got " + b + " and " + latent);
        MoesrConfig c = MoesrConfig.byName(config);
        Device device = BenchRunner.device(o);
        Backend backend = Backends.get(device);
        UNet unet = new UNet(c.unet(), new Philox(o.seed));
        unet.to(device);
        Philox rng = new Philox(o.seed + 1);
        Tensor z = Tensor.randn(rng, device, b, c.unet().outChannels(), latent, latent);
        Tensor cond = Tensor.randn(rng, device, b, c.unet().inChannels() - c.unet().outChannels(), latent, latent);
        double[] ms;
        if (train) {
            unet.train();
            unet.setRoutingRng(new Philox(o.seed + 2));
            ExpertSharing sharing = ExpertSharing.released();
            NoiseSchedule schedule = NoiseSchedule.linear(c.trainSteps(), 0.0015, 0.0155);
            Stage1Trainer trainer = new Stage1Trainer(unet, unet::forward, schedule, Stage1Trainer.Settings.paper(0, o.seed),
                    s -> sharing.apply(unet, s));
            List<Tensor[]> micro = List.<Tensor[]>of(new Tensor[] {z, cond});
            ms = BenchRunner.time(device, o, () -> {
                trainer.step(micro);
                return null;
            });
        } else {
            unet.eval();
            Tensor x = Tensor.cat(1, z, cond);
            ms = BenchRunner.time(device, o, () -> {
                try (GradMode off = GradMode.off()) {
                    return unet.forward(x, 500);
                }
            });
        }
        Map<String, Object> shape = new LinkedHashMap<>();
        shape.put("config", c.name());
        shape.put("mode", mode);
        shape.put("batch", b);
        shape.put("latent", latent);
        BenchRunner.Result result = new BenchRunner.Result("unet " + mode + " step", device, shape, 0, 0, ms, o, new LinkedHashMap<>());
        result.extra().put("images_per_second", b * 1000.0 / result.median());
        result.extra().put("peak_gib", backend.peakBytes() / (double) (1L << 30));
        BenchRunner.print(result, System.out);
        return 0;
    }
}
