package dev.moesr.diffusion.train;

import dev.moesr.diffusion.sampling.NoiseSchedule;
import dev.moesr.nn.Layer;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.Dropout;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class Stage1TrainerTest {

    /** A one-convolution noise predictor: enough to learn eps from z_t and a condition equal to z0. */
    static final class TinyPredictor extends Layer {
        final Conv2d conv;

        TinyPredictor(long seed) {
            conv = registerModule("conv", new Conv2d(6, 3, 3, 1, 1, new Philox(seed)));
        }

        @Override public Tensor forward(Tensor x) { return conv.forward(x); }
    }

    /** The tiny predictor with dropout (p = 0.3) on its input, drawing from a construction stream of its own. */
    static final class DropoutPredictor extends Layer {
        final Dropout dropout;
        final Conv2d conv;

        DropoutPredictor(long seed) {
            dropout = registerModule("dropout", new Dropout(0.3f, new Philox(seed + 1000)));
            conv = registerModule("conv", new Conv2d(6, 3, 3, 1, 1, new Philox(seed)));
        }

        @Override public Tensor forward(Tensor x) { return conv.forward(dropout.forward(x)); }
    }

    static List<Tensor[]> batch(long seed) {
        Philox rng = new Philox(seed);
        Tensor z0 = Tensor.randn(rng, 2, 3, 8, 8);
        return java.util.Collections.singletonList(new Tensor[] {z0, z0});
    }

    static Stage1Trainer trainer(TinyPredictor m, int expert) {
        var settings = new Stage1Trainer.Settings(expert, 4, 3e-2, 0, 0, 0, 0.99, 7);
        return new Stage1Trainer(m, (x, t) -> m.forward(x), NoiseSchedule.ldmLinear(), settings, null);
    }

    @Test
    void lossFallsClearly() {
        TinyPredictor m = new TinyPredictor(1);
        Stage1Trainer tr = trainer(m, 3);
        List<Tensor[]> data = batch(5);
        double first = 0, last = 0;
        for (int i = 0; i < 150; i++) {
            double loss = tr.step(data).loss();
            if (i < 10) first += loss / 10;
            if (i >= 140) last += loss / 10;
        }
        assertTrue(last < 0.5 * first, "loss went from " + first + " to " + last);
    }

    @Test
    void timestepsStayInTheExpertsStage() {
        TinyPredictor m = new TinyPredictor(1);
        for (int expert = 0; expert < 4; expert++) {
            Stage1Trainer tr = trainer(m, expert);
            assertArrayEquals(new int[] {250 * expert, 250 * (expert + 1)}, tr.stage());
            for (int i = 0; i < 3; i++) {
                for (int t : tr.step(batch(i)).timesteps()) assertTrue(t >= 250 * expert && t < 250 * (expert + 1), "t = " + t);
            }
        }
        int[] many = Stage1Trainer.timesteps(new Philox(3), 4000, 250, 500);
        int min = Integer.MAX_VALUE, max = Integer.MIN_VALUE;
        for (int t : many) { min = Math.min(min, t); max = Math.max(max, t); }
        assertEquals(250, min);
        assertEquals(499, max);
    }

    @Test
    void resumingGivesTheSameLossCurveAndWeights(@TempDir Path dir) throws IOException {
        List<Tensor[]> data = batch(9);
        TinyPredictor straight = new TinyPredictor(2);
        Stage1Trainer a = trainer(straight, 1);
        double[] lossA = new double[6];
        for (int i = 0; i < 6; i++) lossA[i] = a.step(data).loss();

        TinyPredictor first = new TinyPredictor(2);
        Stage1Trainer b = trainer(first, 1);
        for (int i = 0; i < 3; i++) assertEquals(lossA[i], b.step(data).loss());
        Path ckpt = dir.resolve("ckpt.safetensors");
        b.save(ckpt, Map.of("config", "test"));

        TinyPredictor resumed = new TinyPredictor(99);       // different initial weights: all must come from the file
        Stage1Trainer c = trainer(resumed, 1);
        c.resume(ckpt);
        assertEquals(3, c.step());
        for (int i = 3; i < 6; i++) assertEquals(lossA[i], c.step(data).loss(), "step " + i);
        assertArrayEquals(straight.conv.weight().tensor().toFloatArray(), resumed.conv.weight().tensor().toFloatArray());
        assertArrayEquals(a.ema().shadow("conv.weight").toFloatArray(), c.ema().shadow("conv.weight").toFloatArray());
    }

    @Test
    void resumingWithDropoutIsExact(@TempDir Path dir) throws IOException {
        List<Tensor[]> data = batch(9);
        var settings = new Stage1Trainer.Settings(1, 4, 3e-2, 0, 0, 0, 0.99, 7);
        DropoutPredictor straight = new DropoutPredictor(2);
        Stage1Trainer a = new Stage1Trainer(straight, (x, t) -> straight.forward(x), NoiseSchedule.ldmLinear(), settings, null);
        double[] lossA = new double[6];
        for (int i = 0; i < 6; i++) lossA[i] = a.step(data).loss();

        DropoutPredictor first = new DropoutPredictor(2);
        Stage1Trainer b = new Stage1Trainer(first, (x, t) -> first.forward(x), NoiseSchedule.ldmLinear(), settings, null);
        for (int i = 0; i < 3; i++) assertEquals(lossA[i], b.step(data).loss(), "step " + i);
        Path ckpt = dir.resolve("ckpt.safetensors");
        b.save(ckpt, Map.of());

        // another construction seed: its dropout stream differs, and it has run forward passes before
        DropoutPredictor resumed = new DropoutPredictor(99);
        resumed.forward(Tensor.cat(1, data.get(0)[0], data.get(0)[1]));
        Stage1Trainer c = new Stage1Trainer(resumed, (x, t) -> resumed.forward(x), NoiseSchedule.ldmLinear(), settings, null);
        c.resume(ckpt);
        for (int i = 3; i < 6; i++) assertEquals(lossA[i], c.step(data).loss(), "step " + i);
        assertArrayEquals(straight.conv.weight().tensor().toFloatArray(), resumed.conv.weight().tensor().toFloatArray());

        // the dropout really acts: without it the same run gives other losses
        TinyPredictor plain = new TinyPredictor(2);
        Stage1Trainer d = trainer(plain, 1);
        assertNotEquals(lossA[0], d.step(data).loss());
    }

    @Test
    void aCheckpointOfAnotherExpertIsRefusedAndChangesNothing(@TempDir Path dir) throws IOException {
        TinyPredictor m = new TinyPredictor(2);
        Stage1Trainer b = trainer(m, 1);
        b.step(batch(1));
        Path ckpt = dir.resolve("e1.safetensors");
        b.save(ckpt, Map.of());
        TinyPredictor other = new TinyPredictor(3);
        float[] before = other.conv.weight().tensor().toFloatArray();
        Stage1Trainer c = trainer(other, 2);
        IOException e = assertThrows(IOException.class, () -> c.resume(ckpt));
        assertTrue(e.getMessage().contains("expert"), e.getMessage());
        assertArrayEquals(before, other.conv.weight().tensor().toFloatArray());
        assertEquals(0, c.step());
    }
}
