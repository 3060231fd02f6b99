package dev.moesr.diffusion.train;

import dev.moesr.diffusion.sampling.NoiseSchedule;
import dev.moesr.nn.Module;
import dev.moesr.nn.layers.Stochastic;
import dev.moesr.nn.loss.Losses;
import dev.moesr.nn.optim.AdamW;
import dev.moesr.nn.optim.Ema;
import dev.moesr.nn.optim.GradClip;
import dev.moesr.nn.optim.LrSchedule;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains one Sampling expert of the time-stage mixture: epsilon prediction with a plain MSE
 * loss on timesteps drawn only from the expert's stage [k T/N, (k+1) T/N), the LR condition
 * concatenated to z_t on channels, AdamW, gradient accumulation, optional clipping and
 * warm-up, EMA after every optimiser step, then a hook (the Space-MoE weight sharing).
 *
 * <p>The random numbers of step s come from a Philox stream keyed by (seed, s) alone, so
 * a run resumed from a checkpoint at step s continues exactly as the uninterrupted run would
 * (given the same batches). Dropout and drop-path layers get a stream keyed by (seed, s) too
 * ({@link Stochastic#reseedAll}) before the step's forward passes.
 */
public final class Stage1Trainer {
    /** Settings; the paper's: lr 5e-5, EMA 0.9999, 4 experts of 1000 timesteps. */
    public record Settings(int expert, int experts, double learningRate, double weightDecay, int warmupSteps,
                           double clipNorm, double emaDecay, long seed) {
        public Settings {
            if (experts < 1) throw new IllegalArgumentException("need at least one expert, got " + experts);
            if (expert < 0 || expert >= experts) throw new IllegalArgumentException("expert must be in [0, " + experts + "), got " + expert);
            if (!(learningRate > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
        }

        public static Settings paper(int expert, long seed) {
            return new Settings(expert, 4, 5e-5, 0.0, 0, 0, 0.9999, seed);
        }
    }

    /** What one optimiser step did. */
    public record StepResult(long step, double loss, double learningRate, double gradNorm, int[] timesteps) {}

    /** Runs after every optimiser step with the number of steps done (e.g. the expert weight sharing). */
    @FunctionalInterface
    public interface AfterStep {
        void run(long stepsDone);
    }

    /** Separates the stream of the stochastic layers from the one of timesteps and noise. */
    private static final long STOCHASTIC_LAYER_SALT = 0x5D0C_4A57_1CL;

    private final Module model;
    private final NoisePredictor predictor;
    private final NoiseSchedule schedule;
    private final Settings settings;
    private final AdamW optimizer;
    private final Ema ema;
    private final LrSchedule lr;
    private final AfterStep afterStep;
    private long step;

    /** Build the trainer outside any scope: it owns long-lived optimiser and EMA state. */
    public Stage1Trainer(Module model, NoisePredictor predictor, NoiseSchedule schedule, Settings settings, AfterStep afterStep) {
        if (schedule.steps() % settings.experts() != 0) {
            throw new IllegalArgumentException(settings.experts() + " experts do not split " + schedule.steps() + " timesteps evenly");
        }
        this.model = model;
        this.predictor = predictor;
        this.schedule = schedule;
        this.settings = settings;
        this.optimizer = new AdamW(model.namedTrainableParameters(), settings.learningRate(), 0.9, 0.999, 1e-8, settings.weightDecay());
        this.ema = settings.emaDecay() > 0 ? new Ema(model, settings.emaDecay()) : null;
        this.lr = LrSchedule.linearWarmup(settings.learningRate(), settings.warmupSteps());
        this.afterStep = afterStep;
    }

    /** First and one-past-last timestep of this expert's stage. */
    public int[] stage() {
        int width = schedule.steps() / settings.experts();
        return new int[] {settings.expert() * width, (settings.expert() + 1) * width};
    }

    public long step() { return step; }

    public Ema ema() { return ema; }

    /**
     * One optimiser step over the given micro-batches (gradient accumulation): each is a pair
     * (latents z0 [B, C, H, W], condition [B, Cc, H, W]); the loss of each is scaled by 1/count.
     */
    @SuppressWarnings("try")
    public StepResult step(List<Tensor[]> microBatches) {
        if (microBatches.isEmpty()) throw new IllegalArgumentException("a step needs at least one micro-batch");
        Philox rng = new Philox(mix(settings.seed(), step));
        // dropout-like layers draw from their own per-step stream (continued by later micro-batches),
        // so the timesteps and noise above stay the same whatever layers the model has
        Stochastic.reseedAll(model, new Philox(mix(settings.seed() ^ STOCHASTIC_LAYER_SALT, step)));
        int[] stage = stage();
        double lossSum = 0;
        int[] firstTimesteps = null;
        double rate = lr.apply(optimizer, step);
        optimizer.zeroGrad();
        for (Tensor[] mb : microBatches) {
            Tensor z0 = mb[0], cond = mb[1];
            if (z0.dim(0) != cond.dim(0) || z0.dim(2) != cond.dim(2) || z0.dim(3) != cond.dim(3)) {
                throw new IllegalArgumentException("latents " + z0.shape() + " and condition " + cond.shape() + " must agree on batch and size");
            }
            try (Scope s = Scope.open()) {
                int b = z0.dim(0);
                int[] t = timesteps(rng, b, stage[0], stage[1]);
                if (firstTimesteps == null) firstTimesteps = t;
                Tensor noise = Tensor.randn(rng, z0.device(), z0.dims());
                Tensor zt = schedule.addNoise(z0, noise, t);
                Tensor eps = predictor.predict(Tensor.cat(1, zt, cond), t);
                Tensor loss = Losses.mse(eps, noise);
                lossSum += loss.item();
                loss.mul(1f / microBatches.size()).backward();
            }
        }
        double norm = settings.clipNorm() > 0 ? GradClip.clipGradNorm(model.parameters(), settings.clipNorm()) : GradClip.globalNorm(model.parameters());
        optimizer.step();
        step++;
        if (ema != null) ema.update();
        if (afterStep != null) afterStep.run(step);
        return new StepResult(step, lossSum / microBatches.size(), rate, norm, firstTimesteps);
    }

    /** Timesteps uniform in [lo, hi), one per batch element, from the step's stream. */
    static int[] timesteps(Philox rng, int count, int lo, int hi) {
        long counter = rng.reserve(count);
        int[] t = new int[count];
        for (int i = 0; i < count; i++) {
            long w = Integer.toUnsignedLong(Philox.word(rng.seed(), counter, i));
            t[i] = lo + (int) ((w * (hi - lo)) >>> 32);
        }
        return t;
    }

    /** A seed for step s of a run: SplitMix64 of (seed, s), so streams of different steps do not overlap. */
    static long mix(long seed, long s) {
        long z = seed + 0x9E3779B97F4A7C15L * (s + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Saves weights, EMA, optimiser state, the step and the settings (atomically). */
    public void save(Path path, Map<String, String> extraMetadata) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(extraMetadata);
        meta.put("stage", "1");
        meta.put("expert", Integer.toString(settings.expert()));
        meta.put("experts", Integer.toString(settings.experts()));
        meta.put("seed", Long.toString(settings.seed()));
        TrainingCheckpoint.save(path, model, ema, optimizer, step, meta);
    }

    /** Restores a checkpoint written by {@link #save}; refuses one of another expert. Returns its metadata. */
    public Map<String, String> resume(Path path) throws IOException {
        Map<String, String> meta = TrainingCheckpoint.load(path, model, ema, optimizer,
                Map.of("stage", "1", "expert", Integer.toString(settings.expert()), "experts", Integer.toString(settings.experts())));
        step = TrainingCheckpoint.step(meta);
        return meta;
    }

    public void release() {
        optimizer.release();
        if (ema != null) ema.release();
    }
}
