package dev.moesr.app.train;

import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.autoencoder.PatchDiscriminator;
import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stage 2's gradient accumulation, seen through Adam's first moment after one step: m = (1 - beta1) * gradient. */
class DecoderTrainerTest {
    @TempDir Path dir;

    static DecoderTrainer.Batch batch(long seed, MoesrConfig c) {
        Philox r = new Philox(seed);
        return new DecoderTrainer.Batch(Tensor.rand(r, 1, 3, 32, 32).mul(2f).sub(1f), Tensor.randn(r, 1, c.vq().embedDim(), 8, 8),
                Tensor.rand(r, 1, 3, 32, 32).mul(2f).sub(1f));
    }

    /** The generator's Adam first moments after one step (GAN on from the start) over {@code micro}, from the same initial weights every time. */
    Map<String, Tensor> firstMoments(List<DecoderTrainer.Batch> micro, String name) throws IOException {
        MoesrConfig c = MoesrConfig.tiny();
        FrequencyCompensatedVqModel model = new FrequencyCompensatedVqModel(c.vq(), c.decoder(), new Philox(11));
        PatchDiscriminator disc = new PatchDiscriminator(3, 16, 2, new Philox(12));
        DecoderTrainer trainer = new DecoderTrainer(model, disc, null, new DecoderTrainer.Settings(1e-4, 0, 1.0, 1.0, 10.0, 5));
        try {
            DecoderTrainer.StepResult r = trainer.step(micro);
            assertTrue(r.adaptiveWeight() > 0 && Double.isFinite(r.loss()), "the GAN term took part: " + r);
            Path file = dir.resolve(name + ".safetensors");
            trainer.save(file, Map.of());
            Map<String, Tensor> m = new java.util.TreeMap<>();
            SafeTensors.read(file).tensors().forEach((k, v) -> {
                if (k.startsWith("optimizer.generator.") && k.endsWith(".exp_avg")) m.put(k, v);
            });
            return m;
        } finally {
            trainer.release();
            model.release();
            disc.release();
        }
    }

    @Test
    void accumulatedMicroBatchesGiveTheMeanOfTheirGradients() throws IOException {
        MoesrConfig c = MoesrConfig.tiny();
        DecoderTrainer.Batch b1 = batch(1, c), b2 = batch(2, c);
        Map<String, Tensor> one = firstMoments(List.of(b1), "one"), two = firstMoments(List.of(b2), "two");
        Map<String, Tensor> both = firstMoments(List.of(b1, b2), "both");
        assertEquals(one.keySet(), both.keySet());
        double worst = 0, scale = 0, apart = 0;
        for (String k : both.keySet()) {
            float[] a = one.get(k).toFloatArray(), b = two.get(k).toFloatArray(), ab = both.get(k).toFloatArray();
            for (int i = 0; i < ab.length; i++) {
                worst = Math.max(worst, Math.abs(ab[i] - (a[i] + b[i]) / 2.0));
                scale = Math.max(scale, Math.abs(ab[i]));
                apart = Math.max(apart, Math.abs(a[i] - b[i]));
            }
        }
        assertTrue(apart > 0.1 * scale, "the two micro-batches must give different gradients for the test to tell anything");
        assertTrue(worst <= 1e-4 * scale, "accumulated gradient off the mean by " + worst + " (largest moment " + scale + ")");
    }
}
