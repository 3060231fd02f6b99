package dev.moesr.diffusion.sampling;

import dev.moesr.diffusion.unet.UNet;
import dev.moesr.diffusion.unet.UNetConfig;
import dev.moesr.nn.Module;
import dev.moesr.nn.ModuleList;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The paper's Sampling MoE: N complete UNets, each serving one stage of consecutive timesteps.
 * Expert k = floor(t / (T / N)) serves timestep t (N = 4, T = 1000: [0, 250), [250, 500),
 * [500, 750), [750, 1000)); no router, only one expert runs per step. The condition (the LR image
 * resized to the latent size) is concatenated with z_t on channels before the UNet.
 *
 * <p>State dict: {@code experts.<k>.<UNet names>}; each expert can also be saved and loaded on its
 * own ({@link #saveExpert}, {@link #loadExpert}), with its UNet configuration and stage in the metadata.
 */
public final class TimeStageExperts extends Module implements Denoiser {
    private final ModuleList<UNet> experts;
    private final int trainSteps;

    /** Expert k of {@code unets} serves stage k of {@code trainSteps} timesteps cut into {@code unets.size()} equal stages. */
    public TimeStageExperts(List<UNet> unets, int trainSteps) {
        if (unets == null || unets.isEmpty()) throw new IllegalArgumentException("time-stage experts need at least one UNet");
        if (trainSteps < 1 || trainSteps % unets.size() != 0) {
            throw new IllegalArgumentException(trainSteps + " training timesteps do not split into " + unets.size()
                    + " equal stages; use a number of experts that divides " + trainSteps);
        }
        UNetConfig first = unets.get(0).config();
        for (int k = 1; k < unets.size(); k++) {
            UNetConfig c = unets.get(k).config();
            if (c.inChannels() != first.inChannels() || c.outChannels() != first.outChannels()) {
                throw new IllegalArgumentException("expert " + k + " maps " + c.inChannels() + " -> " + c.outChannels() + " channels but expert 0 maps "
                        + first.inChannels() + " -> " + first.outChannels() + "; every expert must take the same input");
            }
        }
        this.trainSteps = trainSteps;
        this.experts = registerModule("experts", new ModuleList<>(unets));
    }

    /** {@code count} fresh UNets of {@code config}, initialised one after the other from {@code rng}. */
    public static TimeStageExperts create(UNetConfig config, int count, int trainSteps, Philox rng) {
        if (count < 1) throw new IllegalArgumentException("time-stage experts need at least one UNet, got " + count);
        List<UNet> unets = new ArrayList<>();
        for (int k = 0; k < count; k++) unets.add(new UNet(config, rng));
        return new TimeStageExperts(unets, trainSteps);
    }

    /** The paper's setting: 4 experts over T = 1000. */
    public static TimeStageExperts create(UNetConfig config, Philox rng) { return create(config, 4, 1000, rng); }

    public int count() { return experts.size(); }

    public int trainSteps() { return trainSteps; }

    /** Timesteps per stage, T / N. */
    public int stageLength() { return trainSteps / experts.size(); }

    /** The expert that serves timestep t: floor(t / (T / N)). */
    public int expertIndex(int t) {
        if (t < 0 || t >= trainSteps) throw new IllegalArgumentException("timestep " + t + " outside [0, " + trainSteps + ")");
        return t / stageLength();
    }

    public UNet expert(int k) {
        if (k < 0 || k >= experts.size()) throw new IllegalArgumentException("expert " + k + " outside [0, " + experts.size() + ")");
        return experts.get(k);
    }

    public UNet expertFor(int t) { return experts.get(expertIndex(t)); }

    /** The timesteps expert k serves and is trained on: [first, end). */
    public int[] stage(int k) {
        expert(k);
        return new int[] {k * stageLength(), (k + 1) * stageLength()};
    }

    /**
     * eps(z_t, condition, t) by the expert of t's stage; {@code condition} (B, C_c, H, W) or null is
     * appended to z_t's channels. The experts run in the mode they are in: call {@code eval()}
     * before sampling (averaged Space-MoE experts, no dropout).
     */
    @Override public Tensor predictNoise(Tensor zt, Tensor condition, int t) {
        UNet unet = expertFor(t);
        return unet.forward(modelInput(zt, condition, unet.config().inChannels()), t);
    }

    /** cat(z_t, condition) on channels, checked against the UNet's input channels. */
    static Tensor modelInput(Tensor zt, Tensor condition, int inChannels) {
        if (zt.rank() != 4) throw new IllegalArgumentException("z_t must be (B, C, H, W), got " + zt.shape());
        if (condition == null) {
            if (zt.dim(1) != inChannels) {
                throw new IllegalArgumentException("the UNet takes " + inChannels + " channels but z_t " + zt.shape() + " has " + zt.dim(1) + " and there is no condition");
            }
            return zt;
        }
        if (condition.rank() != 4 || condition.dim(0) != zt.dim(0) || condition.dim(2) != zt.dim(2) || condition.dim(3) != zt.dim(3)) {
            throw new IllegalArgumentException("the condition " + condition.shape() + " must have z_t's batch and size " + zt.shape()
                    + " (B, C, H, W): resize the LR image to the latent size first");
        }
        if (zt.dim(1) + condition.dim(1) != inChannels) {
            throw new IllegalArgumentException("z_t " + zt.shape() + " and the condition " + condition.shape() + " give " + (zt.dim(1) + condition.dim(1))
                    + " channels but the UNet takes " + inChannels);
        }
        return Tensor.cat(1, zt, condition);
    }

    /** Mode changes reach every expert's averaged Space-MoE weights, as {@link UNet#train(boolean)} does. */
    @Override public Module train(boolean on) {
        super.train(on);
        for (UNet u : experts) u.forgetAveragedWeights();
        return this;
    }

    // ---- files ----------------------------------------------------------------------------------

    private Map<String, String> expertMetadata(int k) {
        Map<String, String> m = new LinkedHashMap<>(expert(k).config().toMetadata());
        m.put("sampling_expert.index", Integer.toString(k));
        m.put("sampling_expert.count", Integer.toString(count()));
        m.put("sampling_expert.train_steps", Integer.toString(trainSteps));
        return m;
    }

    /** Writes expert k's state dict (UNet names), its configuration and its stage. */
    public void saveExpert(int k, Path path) throws IOException { expert(k).save(path, expertMetadata(k)); }

    /**
     * Loads expert k's weights from a file written by {@link #saveExpert} or {@link UNet#save}:
     * strictly by name and shape, and a file whose metadata names another configuration or stage is refused.
     */
    public void loadExpert(int k, Path path) throws IOException {
        UNet unet = expert(k);
        try (SafeTensorsFile f = SafeTensorsFile.open(path)) {
            Map<String, String> meta = f.metadata();
            if (meta.keySet().stream().anyMatch(key -> key.startsWith("unet."))) {
                UNetConfig theirs = UNetConfig.fromMetadata(meta);
                if (!theirs.sameArchitecture(unet.config())) {
                    throw new IllegalArgumentException(path + " holds a UNet of " + theirs + " but expert " + k + " is " + unet.config());
                }
            }
            String index = meta.get("sampling_expert.index"), count = meta.get("sampling_expert.count"), steps = meta.get("sampling_expert.train_steps");
            if (index != null && (!index.equals(Integer.toString(k)) || !String.valueOf(count).equals(Integer.toString(count()))
                    || !String.valueOf(steps).equals(Integer.toString(trainSteps)))) {
                throw new IllegalArgumentException(path + " holds expert " + index + " of " + count + " over " + steps + " timesteps, not expert " + k
                        + " of " + count() + " over " + trainSteps);
            }
            unet.loadFrom(f, true);
        }
    }

    /** N experts from N files (expert k from files.get(k)), each built from its file's configuration. */
    public static TimeStageExperts load(List<Path> files, int trainSteps) throws IOException {
        List<UNet> unets = new ArrayList<>();
        for (Path p : files) {
            try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
                unets.add(new UNet(UNetConfig.fromMetadata(f.metadata()), new Philox(0)));
            }
        }
        TimeStageExperts out = new TimeStageExperts(unets, trainSteps);
        for (int k = 0; k < files.size(); k++) out.loadExpert(k, files.get(k));   // checks each file's stage
        return out;
    }
}
