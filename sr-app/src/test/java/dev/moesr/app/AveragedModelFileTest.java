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
 * The averaged inference form of a model file is for inference only: the training paths that read
 * a whole model (stage 1 --init, stage 2 --model) refuse it in one line; its first stage, which is
 * complete, still serves as --first-stage.
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
    void trainingRefusesTheAveragedFormInOneLine() throws IOException {
        MoesrModel m = new MoesrModel(MoesrConfig.tiny(), new Philox(4));
        Path averaged = dir.resolve("averaged.safetensors");
        m.saveAveraged(averaged, false);
        m.release();
        refused(run("train", "--stage", "1", "--config", "tiny", "--expert", "0", "--data", PHOTOS.toString(), "--steps", "1", "--batch", "1",
                "--crop", "32", "--device", "cpu", "--first-stage", averaged.toString(), "--init", averaged.toString(), "--out", dir.resolve("s1").toString()), averaged);
        refused(run("train", "--stage", "2", "--config", "tiny", "--data", PHOTOS.toString(), "--steps", "1", "--batch", "1", "--crop", "32",
                "--device", "cpu", "--model", averaged.toString(), "--out", dir.resolve("s2").toString()), averaged);
        assertFalse(Files.exists(dir.resolve("s1").resolve("stage1-expert0.safetensors")));
    }
}
