package dev.moesr.app.train;

import dev.moesr.diffusion.autoencoder.PatchDiscriminator;
import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.lpips.Lpips;
import dev.moesr.nn.Module;
import dev.moesr.nn.Parameter;
import dev.moesr.nn.io.NonFinite;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.nn.layers.Stochastic;
import dev.moesr.nn.loss.FocalFrequencyLoss;
import dev.moesr.nn.loss.Losses;
import dev.moesr.nn.optim.Adam;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.autograd.Autograd;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * <p>As taming does with {@code torch.autograd.grad}, the two gradient norms come from one forward
 * pass: {@link Autograd#grad} runs only the few nodes between each loss and the last layer, then
 * one backward of the weighted sum trains. The drop-path masks of the AFF blocks come from a
 * stream keyed by (seed, step), so a resumed run draws the same masks as an uninterrupted one.
 */
public final class DecoderTrainer {
    /** {@code seed} keys the drop-path masks of each step (with the step number). */
    public record Settings(double learningRate, long discStart, double discWeight, double lpipsWeight, double frequencyWeight, long seed) {}

    /** One micro-batch: bicubic-upscaled LR images, their sampled latents and the HR targets, [N, C, H, W] each. */
    public record Batch(Tensor lrUpscaled, Tensor latent, Tensor hr) {}

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

    /** One step on one batch; see {@link #step(List)}. */
    public StepResult step(Tensor lrUpscaled, Tensor latent, Tensor hr) {
        return step(List.of(new Batch(lrUpscaled, latent, hr)));
    }

    /**
     * One step of the generator (trainable decoder parts), then one of the discriminator once the
     * GAN has started, over micro-batches of equal size whose gradients add up (each loss divided
     * by their count): the step of one batch of them all, except that the adaptive GAN weight is
     * measured per micro-batch, as gradient accumulation of the released code does. The reported
     * losses are means over the micro-batches.
     */
    @SuppressWarnings("try")
    public StepResult step(List<Batch> micro) {
        if (micro.isEmpty()) throw new IllegalArgumentException("a stage-2 step needs at least one micro-batch");
        boolean gan = step >= settings.discStart();
        int k = micro.size();
        generatorOpt.zeroGrad();
        discriminatorOpt.zeroGrad();
        double gNormSum = 0, nllNormSum = 0, gSum = 0, weightSum = 0, dSum = 0, l1Sum = 0, lpSum = 0, ffSum = 0, lossSum = 0;
        List<Tensor> fakes = new ArrayList<>();
        try {
            for (Batch b : micro) {
                try (Scope s = Scope.open()) {
                    Tensor rec = reconstruct(b.lrUpscaled(), b.latent());
                    Tensor l1t = Losses.l1(rec, b.hr());
                    Tensor ffl = this.ffl.apply(rec, b.hr());
                    Tensor nll = l1t.add(ffl.mul((float) settings.frequencyWeight()));
                    if (lpips != null) {
                        Tensor p = lpips.forward(rec, b.hr()).mean();
                        lpSum += p.item();
                        nll = nll.add(p.mul((float) settings.lpipsWeight()));
                    }
                    l1Sum += l1t.item();
                    ffSum += ffl.item();
                    double nllValue = nll.item(), weight = 0, g = 0;
                    Tensor loss = nll;
                    if (gan) {
                        // the adaptive weight from both losses' gradients at the last layer, on the same graph
                        Tensor gl = Losses.hingeGenerator(discriminator.forward(rec));
                        double nllNorm = norm(Autograd.grad(nll, lastLayer.tensor())[0]);
                        double gNorm = norm(Autograd.grad(gl, lastLayer.tensor())[0]);
                        weight = Math.max(0, Math.min(1e4, nllNorm / (gNorm + 1e-4))) * settings.discWeight();
                        g = gl.item();
                        loss = nll.add(gl.mul((float) weight));
                        nllNormSum += nllNorm;
                        gNormSum += gNorm;
                    }
                    (k == 1 ? loss : loss.mul(1f / k)).backward();
                    fakes.add(s.keep(rec.detach()));
                    weightSum += weight;
                    gSum += g;
                    lossSum += nllValue + weight * g;
                }
            }
            generatorOpt.step();
            if (gan) {
                discriminatorOpt.zeroGrad();   // the generator's backward went through the discriminator too
                for (int i = 0; i < k; i++) {
                    try (Scope s = Scope.open()) {
                        Tensor dl = Losses.hingeDiscriminator(discriminator.forward(micro.get(i).hr()), discriminator.forward(fakes.get(i)));
                        dSum += dl.item();
                        (k == 1 ? dl : dl.mul(1f / k)).backward();
                    }
                }
                discriminatorOpt.step();
            }
        } finally {
            for (Tensor f : fakes) f.release();
        }
        step++;
        return new StepResult(step, lossSum / k, l1Sum / k, lpSum / k, ffSum / k, gSum / k, dSum / k, weightSum / k, nllNormSum / k, gNormSum / k);
    }

    @SuppressWarnings("try")
    private static double norm(Tensor g) {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            return Math.sqrt(g.square().sum().item());
        } finally {
            g.release();
        }
    }

    /** Weights of both modules and both optimisers' state, the step and the metadata, atomically. */
    public void save(Path path, Map<String, String> metadata) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>(state.stateDict());
        generatorOpt.stateDict().forEach((k, v) -> all.put(GEN_OPT + k, v));
        discriminatorOpt.stateDict().forEach((k, v) -> all.put(DISC_OPT + k, v));
        NonFinite.require(all, "refusing to write the checkpoint " + path);   // never a NaN checkpoint over a good one
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
