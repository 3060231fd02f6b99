package dev.moesr.app;

import dev.moesr.app.CommandRunner.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Work is never lost to a diverged run or to an export over its own input (tiny model, a few steps). */
class TrainingSafetyTest {
    @TempDir Path dir;

    private String[] stage1(String out, int steps, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--stage", "1", "--config", "tiny", "--expert", "0",
                "--data", TrainCommandTest.PHOTOS.toString(), "--steps", Integer.toString(steps), "--batch", "2", "--crop", "32",
                "--device", "cpu", "--seed", "5", "--out", dir.resolve(out).toString(), "--json"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void aDivergedRunStopsWithoutWritingOverTheLastGoodCheckpoint() throws IOException {
        TrainCommandTest.ok(stage1("nan", 2, "--lr", "1e-3"));
        Path ckpt = dir.resolve("nan/stage1-expert0.safetensors");
        byte[] good = Files.readAllBytes(ckpt);
        Result r = CommandRunner.run(stage1("nan", 30, "--lr", "1e10", "--checkpoint-every", "1", "--resume", ckpt.toString()));
        assertEquals(1, r.code(), r.all());
        String last = r.err().strip().lines().reduce((a, b) -> b).orElse("");   // after the no --first-stage warning
        assertTrue(last.startsWith("sr-app train: the loss is NaN at step") || last.startsWith("sr-app train: the loss is Infinity at step"), r.err());
        assertTrue(r.err().contains("diverged") && r.err().contains("lower --lr") && r.err().contains(ckpt.toString()), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        // the steps before the loss became NaN may have been checkpointed (finite weights), never a NaN one
        byte[] after = Files.readAllBytes(ckpt);
        try (var f = dev.moesr.nn.io.SafeTensorsFile.open(ckpt)) {
            assertTrue(dev.moesr.nn.io.NonFinite.firstNonFinite(f.readAll(dev.moesr.tensor.Device.CPU)) == null, "the checkpoint holds only finite values");
        }
        assertTrue(after.length == good.length, "the checkpoint is whole");
    }

    @Test
    void aModelFileWithNaNWeightsIsCalledBrokenAndNeverWritten() throws IOException {
        dev.moesr.diffusion.MoesrModel m = new dev.moesr.diffusion.MoesrModel(dev.moesr.diffusion.MoesrConfig.tiny(), new dev.moesr.tensor.Philox(1));
        Path good = dir.resolve("good.safetensors"), bad = dir.resolve("bad.safetensors");
        try {
            m.save(good);
            // poison the first value of the first tensor on disk (the header length, the header, then the data)
            byte[] bytes = Files.readAllBytes(good);
            long headerLength = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            java.nio.ByteBuffer.wrap(bytes, (int) (8 + headerLength), 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN);
            Files.write(bad, bytes);
            // and a model in memory with a NaN weight is never written
            dev.moesr.tensor.Tensor first = m.stateDict().values().iterator().next();
            dev.moesr.nn.InPlace.assign(first, dev.moesr.tensor.Tensor.full(Float.NaN, first.dims()));
            Path refused = dir.resolve("refused.safetensors");
            assertTrue(org.junit.jupiter.api.Assertions.assertThrows(dev.moesr.nn.io.NonFiniteException.class, () -> m.save(refused))
                    .getMessage().contains("refusing to write the model"));
            assertFalse(Files.exists(refused));
        } finally {
            m.release();
        }
        Path photo = dir.resolve("p.png");
        dev.moesr.app.image.ImageFiles.write(photo, dev.moesr.app.image.ImageFiles.read(TrainCommandTest.PHOTOS.resolve("coffee_3.png")).crop(0, 0, 16, 16));
        Result r = CommandRunner.run("infer", "--input", photo.toString(), "--output", dir.resolve("o.png").toString(), "--model", bad.toString(),
                "--steps", "2", "--device", "cpu", "--quiet");
        assertEquals(1, r.code(), r.all());
        assertTrue(r.err().contains("is broken") && r.err().contains("NaN"), r.err());
        assertFalse(Files.exists(dir.resolve("o.png")));
    }

    @Test
    void exportNeverWritesOverItsInputsAndAsksBeforeReplacingAFile() throws IOException {
        String first = null;
        List<String> experts = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            List<String> a = new ArrayList<>(List.of(stage1("ex", 1)));
            a.set(a.indexOf("--expert") + 1, Integer.toString(k));
            TrainCommandTest.ok(a.toArray(String[]::new));
            experts.add(dir.resolve("ex/stage1-expert" + k + ".safetensors").toString());
        }
        TrainCommandTest.ok("train", "--stage", "0", "--config", "tiny", "--data", TrainCommandTest.PHOTOS.toString(), "--steps", "1",
                "--batch", "1", "--crop", "32", "--device", "cpu", "--out", dir.resolve("s0").toString(), "--quiet");
        first = dir.resolve("s0/stage0.safetensors").toString();
        byte[] expert0 = Files.readAllBytes(Path.of(experts.get(0)));
        String list = String.join(",", experts);

        Result onInput = CommandRunner.run("train", "--stage", "export", "--config", "tiny", "--out", experts.get(0), "--first-stage", first,
                "--expert-checkpoints", list, "--overwrite");
        assertEquals(1, onInput.code(), onInput.all());
        assertTrue(onInput.err().contains("is one of the export's inputs"), onInput.err());
        assertArrayEquals(expert0, Files.readAllBytes(Path.of(experts.get(0))), "the stage-1 checkpoint is untouched");

        Path model = dir.resolve("model.safetensors");
        TrainCommandTest.ok("train", "--stage", "export", "--config", "tiny", "--out", model.toString(), "--first-stage", first,
                "--expert-checkpoints", list, "--dtype", "f16");
        byte[] made = Files.readAllBytes(model);
        Result again = CommandRunner.run("train", "--stage", "export", "--config", "tiny", "--out", model.toString(), "--first-stage", first,
                "--expert-checkpoints", list);
        assertEquals(1, again.code(), again.all());
        assertTrue(again.err().contains("already exists") && again.err().contains("--overwrite"), again.err());
        assertArrayEquals(made, Files.readAllBytes(model));
        TrainCommandTest.ok("train", "--stage", "export", "--config", "tiny", "--out", model.toString(), "--first-stage", first,
                "--expert-checkpoints", list, "--overwrite");
        assertTrue(Files.size(model) > made.length * 1.8, "F32 replaced the F16 file, about twice its size");
    }
}
