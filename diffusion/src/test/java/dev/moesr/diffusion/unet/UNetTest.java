package dev.moesr.diffusion.unet;

import dev.moesr.diffusion.sampling.NoiseSchedule;
import dev.moesr.diffusion.train.Stage1Trainer;
import dev.moesr.nn.loss.Losses;
import dev.moesr.nn.optim.AdamW;
import dev.moesr.nn.optim.Ema;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;
import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole UNet: shapes, bad input, LDM's embedding and zero start, memory, files, mode switches. */
@SuppressWarnings("try")   // scopes in tests only bound a region
class UNetTest {

    @Test
    void timestepEmbeddingIsCosinesThenSines() {
        int[] t = {0, 1, 999};
        for (int dim : new int[] {8, 7}) {
            float[] e = UNet.timestepEmbedding(t, dim, dev.moesr.tensor.Device.CPU).toFloatArray();
            int half = dim / 2;
            for (int b = 0; b < t.length; b++) {
                for (int i = 0; i < half; i++) {
                    double arg = t[b] * Math.exp(-Math.log(10000) * i / half);
                    assertEquals(Math.cos(arg), e[b * dim + i], 2e-4, "cos at t " + t[b] + ", i " + i);
                    assertEquals(Math.sin(arg), e[b * dim + half + i], 2e-4, "sin at t " + t[b] + ", i " + i);
                }
                if (dim % 2 == 1) assertEquals(0f, e[b * dim + dim - 1], "odd widths end with a zero column");
            }
        }
    }

    @Test
    void aFreshUNetPredictsZeroAndBadInputIsExplained() {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            UNet unet = new UNet(UNetConfig.tiny(), new Philox(1));
            Tensor x = Tensor.randn(new Philox(2), 2, 6, 8, 12);
            Tensor y = unet.forward(x, new int[] {5, 700});
            assertArrayEquals(new int[] {2, 3, 8, 12}, y.dims());
            for (float v : y.toFloatArray()) assertEquals(0f, v, "LDM zero-initialises the output convolution");
            IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> unet.forward(Tensor.zeros(1, 6, 7, 8), 1));
            assertTrue(size.getMessage().contains("multiples of 2"), size.getMessage());
            assertThrows(IllegalArgumentException.class, () -> unet.forward(Tensor.zeros(1, 3, 8, 8), 1), "channels");
            IllegalArgumentException steps = assertThrows(IllegalArgumentException.class, () -> unet.forward(x, new int[] {1}));
            assertTrue(steps.getMessage().contains("one per batch element"), steps.getMessage());
            unet.release();
        }
    }

    @Test
    void inferenceLeavesOnlyItsOutputBehind() {
        UNet unet = new UNet(UNetConfig.tiny(), new Philox(3));
        Reference.randomise(unet, new Gen(4));
        unet.eval();
        Tensor x = Tensor.randn(new Philox(5), 1, 6, 8, 8);
        try (GradMode off = GradMode.off()) {
            unet.forward(x, 10).release();   // the first call computes the averaged experts (buffers made with the model)
            long before = Backends.cpu().bytesInUse();
            Tensor y = unet.forward(x, 20);   // no scope around it: every temporary must be freed by the forward itself
            assertEquals(before + y.numel() * 4, Backends.cpu().bytesInUse(), "bytes held besides the output");
            y.release();
        }
        x.release();
        unet.release();
    }

    @Test
    void aTrainingLoopWithSharingHoldsItsMemoryFlatAndLearns() {
        UNet unet = new UNet(UNetConfig.tiny(), new Philox(6));
        unet.train();
        unet.setRoutingRng(new Philox(7));
        AdamW opt = new AdamW(unet.namedTrainableParameters(), 1e-3);
        ExpertSharing sharing = new ExpertSharing(0.3, 4);
        Tensor x = Tensor.randn(new Philox(8), 2, 6, 8, 8);
        Tensor target = Tensor.randn(new Philox(9), 2, 3, 8, 8);
        long[] held = new long[6];
        float first = 0, last = 0;
        for (int step = 0; step < held.length; step++) {
            try (Scope s = Scope.open()) {
                opt.zeroGrad();
                Tensor loss = Losses.mse(unet.forward(x, new int[] {100, 900}), target);
                if (step == 0) first = loss.item();
                last = loss.item();
                loss.backward();
                opt.step();
                sharing.apply(unet, step);
            }
            held[step] = Backends.cpu().bytesInUse();
        }
        for (int step = 2; step < held.length; step++) assertEquals(held[1], held[step], "bytes held after step " + step);
        assertTrue(last < first, "the loss went down: " + first + " -> " + last);
        opt.release();
        x.release();
        target.release();
        unet.release();
    }

    @Test
    void trainsAsOneSamplingExpertWithTheStageOneTrainerAndSharing() {
        UNet unet = new UNet(UNetConfig.tiny(), new Philox(30));
        unet.train();
        ExpertSharing sharing = new ExpertSharing(0.3, 2);
        double[] gammas = new double[3];
        Stage1Trainer trainer = new Stage1Trainer(unet, unet::forward, NoiseSchedule.ldmLinear(),
                new Stage1Trainer.Settings(2, 4, 1e-3, 0, 0, 1.0, 0.999, 31), done -> gammas[(int) done - 1] = sharing.apply(unet, done));
        try (Scope s = Scope.open()) {
            Tensor z0 = Tensor.randn(new Philox(32), 2, 3, 8, 8), lr = Tensor.randn(new Philox(33), 2, 3, 8, 8);
            for (int step = 0; step < 3; step++) {
                Stage1Trainer.StepResult r = trainer.step(java.util.List.<Tensor[]>of(new Tensor[] {z0, lr}));
                assertTrue(Double.isFinite(r.loss()), "loss of step " + step);
                for (int t : r.timesteps()) assertTrue(t >= 500 && t < 750, "expert 2 trains on its stage only, got t " + t);
            }
        }
        assertArrayEquals(new double[] {0.85, 0.7, 0.7}, gammas, 1e-12, "the sharing ramp after steps 1, 2, 3");
        trainer.ema().release();
        unet.release();
    }

    @Test
    void samplingWithEmaWeightsUsesTheirAverageWithoutAModeSwitch() {
        try (Scope s = Scope.open()) {
            UNet unet = new UNet(UNetConfig.tiny(), new Philox(10));
            Reference.randomise(unet, new Gen(11));
            Ema ema = new Ema(unet, 0.5);
            Reference.randomise(unet, new Gen(12));   // the model drifts away from its EMA
            Tensor x = Tensor.randn(new Philox(13), 1, 6, 8, 8);
            unet.eval();
            float[] own;
            try (GradMode off = GradMode.off()) {
                own = unet.forward(x, 50).toFloatArray();   // keeps the averaged FFN of the model's own weights
            }
            UNet copy = new UNet(UNetConfig.tiny(), new Philox(14));
            try (var shadow = ema.useShadowWeights(); GradMode off = GradMode.off()) {
                // the swap itself tells the model its weights changed: no eval() needed to drop the kept averages
                copy.loadStateDict(unet.stateDict(), true);
                copy.eval();
                float[] withEma = unet.forward(x, 50).toFloatArray();
                assertArrayEquals(copy.forward(x, 50).toFloatArray(), withEma, "the EMA weights' averaged experts");
                assertFalse(java.util.Arrays.equals(own, withEma));
            }
            unet.release();
            copy.release();
            ema.release();
        }
    }

    @Test
    void savesAndLoadsWithItsConfiguration(@TempDir Path dir) throws IOException {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            UNetConfig cfg = new UNetConfig("small", 4, 2, 32, new int[] {1, 2}, 1, new int[] {2}, 16, 2, 0f);
            UNet unet = new UNet(cfg, new Philox(15));
            Reference.randomise(unet, new Gen(16));
            Path file = dir.resolve("unet.safetensors");
            unet.save(file);
            UNet back = UNet.fromFile(file);
            assertEquals(cfg, back.config());
            for (Map.Entry<String, Tensor> e : unet.stateDict().entrySet()) {
                assertArrayEquals(e.getValue().toFloatArray(), back.stateDict().get(e.getKey()).toFloatArray(), e.getKey());
            }
            unet.eval();
            back.eval();
            Tensor x = Tensor.randn(new Philox(17), 1, 4, 4, 4);
            assertArrayEquals(unet.forward(x, 3).toFloatArray(), back.forward(x, 3).toFloatArray());
            UNet other = new UNet(UNetConfig.tiny(), new Philox(1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> other.load(file));
            assertTrue(e.getMessage().contains("shape mismatch") || e.getMessage().contains("missing key"), e.getMessage());
            unet.release();
            back.release();
            other.release();
        }
    }
}
