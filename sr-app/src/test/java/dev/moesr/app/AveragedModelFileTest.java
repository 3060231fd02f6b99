package dev.moesr.app;

import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.tensor.Philox;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.moesr.app.CommandRunner.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The averaged inference form of a model file: stage 2's --model (the experts that sample the
 * triples) refuses it in one line; stage 1's --init takes it, every Space-MoE expert starting from
 * its layer's averaged FFN (so the shipped, averaged model can be trained further); its first
 * stage, which is complete, still serves as --first-stage.
 */
class AveragedModelFileTest {
    static final Path PHOTOS = Path.of("src/test/resources/photos");

    @TempDir
    Path dir;

    private static void refused(CommandRunner.Result r, Path averaged) {
        assertEquals(1, r.code(), r.all());
        var errors = r.err().strip().lines().filter(l -> !l.startsWith("sr-app train: warning:")).toList();
        assertEquals(1, errors.size(), r.err());
        assertTrue(errors.get(0).startsWith("sr-app train: " + averaged + " is the averaged inference form of a tiny model"), r.err());
    }

    @Test
    void stageTwoRefusesTheAveragedFormAndStageOneStartsEveryExpertFromItsAverage() throws IOException {
        MoesrModel m = new MoesrModel(MoesrConfig.tiny(), new Philox(4));
        Path averaged = dir.resolve("averaged.safetensors");
        m.saveAveraged(averaged, false);
        m.release();
        refused(run("train", "--stage", "2", "--config", "tiny", "--data", PHOTOS.toString(), "--steps", "1", "--batch", "1", "--crop", "32",
                "--device", "cpu", "--model", averaged.toString(), "--out", dir.resolve("s2").toString()), averaged);
        // one step at a learning rate of 1e-12: the weights stay within 1e-7 of those --init gave (an ulp or so: the step and the float mean of equal experts)
        CommandRunner.Result r = run("train", "--stage", "1", "--config", "tiny", "--expert", "1", "--data", PHOTOS.toString(), "--steps", "1",
                "--batch", "1", "--lr", "1e-12", "--crop", "32", "--device", "cpu", "--first-stage", averaged.toString(), "--init", averaged.toString(),
                "--out", dir.resolve("s1").toString());
        assertEquals(0, r.code(), r.all());
        try (var ckpt = dev.moesr.nn.io.SafeTensorsFile.open(dir.resolve("s1").resolve("stage1-expert1.safetensors"));
             var avg = dev.moesr.nn.io.SafeTensorsFile.open(averaged)) {
            int checked = 0;
            for (String name : ckpt.entries().keySet()) {
                if (!name.contains(".moe.experts.") || name.startsWith("model_ema") || name.startsWith("optimizer")) continue;
                String ffn = "sampling.experts.1." + name.replaceFirst("\\.moe\\.experts\\.\\d+\\.", ".moe.ffn.");
                org.junit.jupiter.api.Assertions.assertArrayEquals(avg.readAll(dev.moesr.tensor.Device.CPU).get(ffn).toFloatArray(),
                        ckpt.readAll(dev.moesr.tensor.Device.CPU).get(name).toFloatArray(), 1e-7f, name + " starts as " + ffn);
                checked++;
            }
            assertTrue(checked > 0, "the tiny UNet has Space-MoE experts");
        }
    }
}
