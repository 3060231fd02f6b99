package dev.moesr.app.train;

import dev.moesr.diffusion.autoencoder.PatchDiscriminator;
import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.lpips.Lpips;
import dev.moesr.nn.Module;
import dev.moesr.nn.Parameter;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.nn.layers.Stochastic;
import dev.moesr.nn.loss.FocalFrequencyLoss;
import dev.moesr.nn.loss.Losses;
import dev.moesr.nn.optim.Adam;
import dev.moesr.nn.optim.GradClip;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stage 2: trains the fusion layers and the refinement UNet of the frequency-compensated decoder
 * (everything else frozen by {@link FrequencyCompensatedVqModel#freezeForStage2}) and a PatchGAN
 * discriminator. Generator loss: L1 + w_lpips LPIPS + lambda FFL, plus after {@code discStart}
 * steps the hinge generator loss times the adaptive weight ||grad nll|| / (||grad g|| + 1e-4)
 * (clamped to [0, 1e4]) at the last trainable layer. Taming measures at decoder.conv_out, which
 * is frozen here; the last convolution of the refinement UNet is the last layer that trains.
 *
 * <p>Without a retained graph the two gradient norms come from separate forward passes: g alone,
 * then the nll, then g scaled by the weight; the passes are deterministic, so this equals the
 * single-pass computation. The drop-path masks of the AFF blocks come from a stream keyed by
 * (seed, step) and restarted for every pass, so the three passes of a step share their masks
 * and a resumed run draws the same masks as an uninterrupted one.
 */
public final class DecoderTrainer {
    /** {@code seed} keys the drop-path masks of each step (with the step number). */
    public record Settings(double learningRate, long discStart, double discWeight, double lpipsWeight, double frequencyWeight, long seed) {}

    public record StepResult(long step, double loss, double l1, double lpips, double focalFrequency, double generator,
                             double discriminator, double adaptiveWeight, double nllGradNorm, double generatorGradNorm) {}

    /** The two trained modules under one name space: first_stage.* (as model files) and discriminator.*. */
    static final class State extends Module {
        State(FrequencyCompensatedVqModel firstStage, PatchDiscriminator discriminator) {
            registerModule("first_stage", firstStage);
            registerModule("discriminator", discriminator);
        }
    }

    private static final String GEN_OPT = "optimizer.generator.", DISC_OPT = "optimizer.discriminator.";

    private final FrequencyCompensatedVqModel model;
    private final PatchDiscriminator discriminator;
    private final Lpips lpips;
    private final Settings settings;
    private final State state;
    private final Adam generatorOpt, discriminatorOpt;
    private final FocalFrequencyLoss ffl = new FocalFrequencyLoss();
    private final Parameter lastLayer;
    private long step;

    public DecoderTrainer(FrequencyCompensatedVqModel model, PatchDiscriminator discriminator, Lpips lpips, Settings settings) {
        this.model = model;
        this.discriminator = discriminator;
        this.lpips = lpips;
        this.settings = settings;
        model.freezeForStage2();
        this.state = new State(model, discriminator);
        this.generatorOpt = new Adam(model.namedTrainableParameters(), settings.learningRate(), 0.5, 0.9, 1e-8, 0);
        this.discriminatorOpt = new Adam(discriminator.namedTrainableParameters(), settings.learningRate(), 0.5, 0.9, 1e-8, 0);
        Parameter last = null;
        for (Parameter p : model.decoder().refinement().namedTrainableParameters().values()) {
            if (p.tensor().rank() == 4) last = p;
        }
        if (last == null) throw new IllegalArgumentException("the refinement UNet has no trainable convolution to measure the adaptive weight at");
        this.lastLayer = last;
    }

    public long step() { return step; }

    /** The module whose state dict the checkpoint holds (first_stage.*, discriminator.*). */
    public Module state() { return state; }

    /** A forward pass with this step's drop-path masks (the same for every pass of the step). */
    private Tensor reconstruct(Tensor lrUpscaled, Tensor latent) {
        Stochastic.reseedAll(model, new Philox(TrainingPatches.routingSeed(settings.seed() ^ 0xD70BL, step)));
        return model.forward(lrUpscaled, latent).image();
    }

    /** One step of the generator (trainable decoder parts), then one of the discriminator once the GAN has started. */
    @SuppressWarnings("try")
    public StepResult step(Tensor lrUpscaled, Tensor latent, Tensor hr) {
        boolean gan = step >= settings.discStart();
        generatorOpt.zeroGrad();
        discriminatorOpt.zeroGrad();
        double gNorm = 0, nllNorm = 0, g = 0, weight = 0, d = 0;
        if (gan) {
            try (Scope s = Scope.open()) {
                Losses.hingeGenerator(discriminator.forward(reconstruct(lrUpscaled, latent))).backward();
            }
            gNorm = GradClip.globalNorm(List.of(lastLayer));
            generatorOpt.zeroGrad();
        }
        double l1, lp = 0, ff, nll;
        Tensor fake;
        try (Scope s = Scope.open()) {
            Tensor rec = reconstruct(lrUpscaled, latent);
            Tensor l1t = Losses.l1(rec, hr);
            Tensor ffl = this.ffl.apply(rec, hr);
            Tensor loss = l1t.add(ffl.mul((float) settings.frequencyWeight()));
            if (lpips != null) {
                Tensor p = lpips.forward(rec, hr).mean();
                lp = p.item();
                loss = loss.add(p.mul((float) settings.lpipsWeight()));
            }
            l1 = l1t.item();
            ff = ffl.item();
            nll = loss.item();
            loss.backward();
            fake = s.keep(rec.detach());
        }
        if (gan) {
            nllNorm = GradClip.globalNorm(List.of(lastLayer));
            weight = Math.max(0, Math.min(1e4, nllNorm / (gNorm + 1e-4))) * settings.discWeight();
            try (Scope s = Scope.open()) {
                Tensor gl = Losses.hingeGenerator(discriminator.forward(reconstruct(lrUpscaled, latent)));
                g = gl.item();
                gl.mul((float) weight).backward();
            }
        }
        generatorOpt.step();
        if (gan) {
            discriminatorOpt.zeroGrad();
            try (Scope s = Scope.open()) {
                Tensor dl = Losses.hingeDiscriminator(discriminator.forward(hr), discriminator.forward(fake));
                d = dl.item();
                dl.backward();
            }
            discriminatorOpt.step();
        }
        fake.release();
        step++;
        return new StepResult(step, nll + weight * g, l1, lp, ff, g, d, weight, nllNorm, gNorm);
    }

    /** Weights of both modules and both optimisers' state, the step and the metadata, atomically. */
    public void save(Path path, Map<String, String> metadata) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>(state.stateDict());
        generatorOpt.stateDict().forEach((k, v) -> all.put(GEN_OPT + k, v));
        discriminatorOpt.stateDict().forEach((k, v) -> all.put(DISC_OPT + k, v));
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put("stage", "2");
        meta.put("step", Long.toString(step));
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        SafeTensors.write(path, all, meta);
    }

    /** Restores a checkpoint written by {@link #save} (the caller has checked its metadata). */
    public void resume(Path path) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(path);
        try {
            Map<String, Tensor> weights = new HashMap<>(), gen = new HashMap<>(), disc = new HashMap<>();
            c.tensors().forEach((k, v) -> {
                if (k.startsWith(GEN_OPT)) gen.put(k.substring(GEN_OPT.length()), v);
                else if (k.startsWith(DISC_OPT)) disc.put(k.substring(DISC_OPT.length()), v);
                else weights.put(k, v);
            });
            state.loadStateDict(weights, true);
            generatorOpt.loadStateDict(gen);
            discriminatorOpt.loadStateDict(disc);
            step = Long.parseLong(c.metadata().get("step"));
        } catch (IllegalArgumentException e) {
            throw new IOException("checkpoint " + path + " does not fit this model: " + e.getMessage(), e);
        } finally {
            for (Tensor t : c.tensors().values()) t.release();
        }
    }

    public void release() {
        generatorOpt.release();
        discriminatorOpt.release();
    }
}
