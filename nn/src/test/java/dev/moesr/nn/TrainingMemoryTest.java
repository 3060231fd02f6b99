package dev.moesr.nn;

import dev.moesr.nn.layers.SiLU;
import dev.moesr.nn.loss.Losses;
import dev.moesr.nn.optim.AdamW;
import dev.moesr.nn.optim.Ema;
import dev.moesr.nn.optim.GradClip;
import dev.moesr.nn.optim.LrSchedule;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@SuppressWarnings("try")   // scopes in tests only bound a region
class TrainingMemoryTest {

    @Test
    void aTrainingLoopHoldsItsMemoryFlat() {
        Sequential model = new Sequential(new Toy.Affine(8, 0.5f), new SiLU(), new Toy.Affine(8, -0.25f));
        AdamW opt = new AdamW(model.namedTrainableParameters(), 1e-2);
        Ema ema = new Ema(model, 0.999);
        LrSchedule lr = LrSchedule.linearWarmup(1e-2, 3);
        long[] inUse = new long[12];
        float first = 0, last = 0;
        for (int step = 0; step < inUse.length; step++) {
            try (Scope s = Scope.open()) {
                opt.zeroGrad();
                Tensor x = Tensor.arange(8).mul(0.1f);
                Tensor loss = Losses.mse(model.forward(x), Tensor.ones(8));
                if (step == 0) first = loss.item();
                last = loss.item();
                loss.backward();
                GradClip.clipGradNorm(model.parameters(), 1.0);
                lr.apply(opt, step);
                opt.step();
                ema.update();
            }
            inUse[step] = Backends.cpu().bytesInUse();
        }
        // after the first step (which creates the gradients) every step ends with the same bytes held
        for (int step = 2; step < inUse.length; step++) assertEquals(inUse[1], inUse[step], "bytes held after step " + step);
        assertTrue(last < first, "the loss went down: " + first + " -> " + last);
        opt.zeroGrad();
        long withGrads = Backends.cpu().bytesInUse();
        assertTrue(withGrads < inUse[1], "zeroGrad frees the gradients");
        opt.release();
        ema.release();
        model.release();
    }
}
