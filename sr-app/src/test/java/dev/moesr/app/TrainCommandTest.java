package dev.moesr.app;

import dev.moesr.app.CommandRunner.Result;
import dev.moesr.app.image.Image;
import dev.moesr.app.train.ValidationCrops;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.moesr.app.CommandRunner.run;
import static org.junit.jupiter.api.Assertions.*;

class TrainCommandTest {
    static final Path PHOTOS = Path.of("src/test/resources/photos");
    static final Pattern LOSS = Pattern.compile("\"loss\": ?([-0-9.eE]+)");

    @TempDir
    Path dir;

    /** The per-step losses of a --json run, in order (lines with an "event" are not steps). */
    static List<Double> losses(Result r) {
        List<Double> out = new ArrayList<>();
        for (String line : r.out().lines().toList()) {
            if (line.contains("\"event\"")) continue;
            Matcher m = LOSS.matcher(line);
            assertTrue(m.find(), "not a step line: " + line);
            out.add(Double.parseDouble(m.group(1)));
        }
        return out;
    }

    static Result ok(String... args) {
        Result r = run(args);
        assertEquals(0, r.code(), r.all());
        return r;
    }

    /** A numeric field of the n-th step line of a --json run. */
    static double field(Result r, String name, int n) {
        String line = r.out().lines().filter(l -> !l.contains("\"event\"")).toList().get(n);
        Matcher m = Pattern.compile("\"" + name + "\": ?([-0-9.eE]+)").matcher(line);
        assertTrue(m.find(), name + " missing from " + line);
        return Double.parseDouble(m.group(1));
    }

    static double mean(List<Double> xs) { return xs.stream().mapToDouble(Double::doubleValue).average().orElseThrow(); }

    String[] stage1(String out, int expert, int steps, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--stage", "1", "--config", "tiny", "--expert", Integer.toString(expert),
                "--data", PHOTOS.toString(), "--steps", Integer.toString(steps), "--batch", "2", "--crop", "32", "--device", "cpu",
                "--seed", "5", "--out", dir.resolve(out).toString(), "--json"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void stage1LowersTheLossOnRealPhotos() {
        Result r = ok(stage1("loss", 3, 200, "--lr", "1e-3"));
        List<Double> l = losses(r);
        assertEquals(200, l.size());
        double first = mean(l.subList(0, 20)), last = mean(l.subList(180, 200));
        System.out.printf("stage 1 tiny expert 3: first 20 mean %.4f, last 20 mean %.4f%n", first, last);
        assertTrue(last < 0.7 * first, "first 20 mean " + first + ", last 20 mean " + last);
        assertTrue(r.out().contains("\"images_per_second\"") && r.out().contains("\"bytes_in_use\"") && r.out().contains("\"peak_bytes\""), r.out());
        assertTrue(Files.isRegularFile(dir.resolve("loss/stage1-expert3.safetensors")));
        assertTrue(r.err().contains("no --first-stage"), r.err());
    }

    @Test
    void resumedStage1RunContinuesExactly() {
        List<Double> whole = losses(ok(stage1("whole", 1, 6, "--lr", "1e-3", "--accumulate", "2")));
        List<Double> part = losses(ok(stage1("part", 1, 3, "--lr", "1e-3", "--accumulate", "2")));
        Path ckpt = dir.resolve("part/stage1-expert1.safetensors");
        List<Double> rest = losses(ok(stage1("part", 1, 6, "--lr", "1e-3", "--accumulate", "2", "--resume", ckpt.toString())));
        List<Double> joined = new ArrayList<>(part);
        joined.addAll(rest);
        assertEquals(whole, joined);
    }

    @Test
    void checkpointsAreWrittenOnTheWayAndValidationIsLogged() {
        Result r = ok(stage1("every", 0, 4, "--checkpoint-every", "2", "--validate-every", "2"));
        assertEquals(2, r.out().lines().filter(l -> l.contains("\"checkpoint\"") || l.contains("\"done\"")).count(), r.out());
        assertEquals(2, r.out().lines().filter(l -> l.contains("\"val_loss\"")).count(), r.out());
    }

    @Test
    void validationWritesTheExpertsStageImageWithItsMetrics() throws IOException {
        Result r = ok(stage1("vimg", 2, 4, "--validate-every", "2"));
        List<String> events = r.out().lines().filter(l -> l.contains("\"validation\"")).toList();
        assertEquals(2, events.size(), r.out());
        Path folder = dir.resolve("vimg/validation");
        for (int step : new int[] {2, 4}) {
            Path png = folder.resolve("expert2-step" + step + ".png");
            assertTrue(Files.isRegularFile(png), "no " + png);
            Image img = ImageFiles.read(png);
            assertEquals(4 * 32, img.width());   // the first four of the validation crops, each of the --crop side
            assertEquals(32, img.height());
            String event = events.get(step / 2 - 1);
            assertEquals(6 * ValidationCrops.PER_IMAGE, (int) numberIn(event, "val_crops"), "two crops of each of the six photos: " + event);
            double psnr = numberIn(event, "val_psnr"), ssim = numberIn(event, "val_ssim");
            System.out.printf("stage 1 tiny expert 2 validation image at step %d: PSNR %.2f dB, SSIM %.4f%n", step, psnr, ssim);
            assertTrue(psnr > 0 && psnr < 100, "PSNR " + psnr + " in " + event);
            assertTrue(ssim > -1 && ssim <= 1, "SSIM " + ssim + " in " + event);
            assertTrue(event.contains(png.getFileName().toString()), event);
        }
        try (var files = Files.list(folder)) {
            assertEquals(2, files.count(), "only the two images, no temporary file left");
        }
    }

    @Test
    void stage0ValidationWritesReconstructionsWithoutChangingTheTraining() throws IOException {
        Result plain = ok(stage0("v0plain", 4));
        Result r = ok(stage0("v0", 4, "--validate-every", "2"));
        assertEquals(losses(plain), losses(r), "validation must not change the training");
        List<String> events = r.out().lines().filter(l -> l.contains("\"validation\"")).toList();
        assertEquals(2, events.size(), r.out());
        for (int step : new int[] {2, 4}) {
            Path png = dir.resolve("v0/validation/stage0-step" + step + ".png");
            Image img = ImageFiles.read(png);
            assertEquals(4 * 32, img.width());
            String event = events.get(step / 2 - 1);
            double l1 = numberIn(event, "val_l1"), psnr = numberIn(event, "val_psnr");
            assertTrue(l1 > 0 && l1 < 2 && psnr > 0 && psnr < 100, event);
        }
    }

    @Test
    void validationCanUseHeldOutImages() throws IOException {
        Path held = Files.createDirectories(dir.resolve("held"));
        float[] gray = new float[48 * 48];
        for (int i = 0; i < gray.length; i++) gray[i] = (i % 48) / 47f;   // a ramp that is in none of the training photos
        ImageFiles.write(held.resolve("ramp.png"), new Image(1, 48, 48, gray, null));
        Result fromTraining = ok(stage1("val-train", 0, 2, "--validate-every", "2"));
        Result fromHeld = ok(stage1("val-held", 0, 2, "--validate-every", "2", "--val-data", held.toString()));
        assertTrue(fromTraining.err().contains("no --val-data"), fromTraining.err());
        assertFalse(fromHeld.err().contains("no --val-data"), fromHeld.err());
        String a = fromTraining.out().lines().filter(l -> l.contains("\"validation\"")).findFirst().orElseThrow();
        String b = fromHeld.out().lines().filter(l -> l.contains("\"validation\"")).findFirst().orElseThrow();
        // same seed and training data: only the validation images differ
        assertEquals(losses(fromTraining), losses(fromHeld));
        assertNotEquals(numberIn(a, "val_loss"), numberIn(b, "val_loss"), a + " vs " + b);
        Image img = ImageFiles.read(dir.resolve("val-held/validation/expert0-step2.png"));
        assertEquals(32, img.width(), "the 48x48 ramp has room for one 32x32 crop only");
        assertEquals(1, (int) numberIn(b, "val_crops"), b);
    }

    @Test
    void stageTimestepsSpanTheStageDownToItsLowestTimestep() {
        assertArrayEquals(new int[] {499, 437, 374, 312, 250}, TrainCommand.stageTimesteps(499, 250, 5));
        assertArrayEquals(new int[] {3, 2, 1}, TrainCommand.stageTimesteps(3, 1, 5));
        assertArrayEquals(new int[] {7}, TrainCommand.stageTimesteps(7, 7, 5));
        assertThrows(IllegalArgumentException.class, () -> TrainCommand.stageTimesteps(1, 2, 5));
    }

    static double numberIn(String line, String name) {
        Matcher m = Pattern.compile("\"" + name + "\": ?([-0-9.eE]+)").matcher(line);
        assertTrue(m.find(), name + " missing from " + line);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void badInputGivesOneLineAndExitCode() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Path small = Files.createDirectories(dir.resolve("small"));
        ImageFiles.write(small.resolve("a.png"), new Image(3, 16, 16, new float[3 * 16 * 16]));
        String[][] cases = {
                {"train", "--stage", "1", "--config", "tiny", "--expert", "0", "--data", dir.resolve("missing").toString(), "--out", dir.toString()},
                {"train", "--stage", "1", "--config", "tiny", "--expert", "0", "--data", empty.toString(), "--crop", "32", "--out", dir.toString()},
                {"train", "--stage", "1", "--config", "tiny", "--expert", "0", "--data", small.toString(), "--crop", "32", "--out", dir.toString()},
                {"train", "--stage", "1", "--config", "nonesuch", "--expert", "0", "--data", PHOTOS.toString(), "--out", dir.toString()},
                {"train", "--stage", "1", "--config", "tiny", "--expert", "4", "--data", PHOTOS.toString(), "--out", dir.toString()},
                {"train", "--stage", "1", "--config", "tiny", "--expert", "0", "--data", PHOTOS.toString(), "--crop", "30", "--out", dir.toString()},
                {"train", "--stage", "7", "--config", "tiny", "--out", dir.toString()},
        };
        for (String[] c : cases) {
            Result r = run(c);
            assertEquals(1, r.code(), String.join(" ", c) + "\n" + r.all());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().startsWith("sr-app train: "), r.err());
        }
        Result parse = run("train", "--stage", "1", "--steps", "many");
        assertEquals(2, parse.code());
        assertEquals(1, parse.err().strip().lines().count(), parse.err());
    }

    @Test
    void resumeRefusesACheckpointOfAnotherExpertOrConfig() {
        ok(stage1("e2", 2, 1));
        Path ckpt = dir.resolve("e2/stage1-expert2.safetensors");
        Result other = run(stage1("e0", 0, 2, "--resume", ckpt.toString()));
        assertEquals(1, other.code(), other.all());
        assertTrue(other.err().contains("expert"), other.err());
        assertEquals(1, other.err().strip().lines().count(), other.err());
        Result pipeline = run(stage1("e2b", 2, 2, "--resume", ckpt.toString(), "--pipeline", "realesrgan"));
        assertEquals(1, pipeline.code(), pipeline.all());
        assertTrue(pipeline.err().contains("train.pipeline"), pipeline.err());
        Result config = run("train", "--stage", "1", "--config", "moesr-x4", "--expert", "2", "--data", PHOTOS.toString(), "--crop", "32",
                "--out", dir.resolve("x4").toString(), "--resume", ckpt.toString(), "--device", "cpu");
        assertEquals(1, config.code(), config.all());
        assertTrue(config.err().contains("moesr.name"), config.err());
    }

    /**
     * Ctrl-C on a real training process: SIGTERM runs the shutdown hooks, the loop finishes its
     * step and writes the checkpoint, the process ends, and the folder holds one whole checkpoint
     * (no temporary file) that resumes.
     */
    @Test
    void sigtermStopsTrainingWithAWholeCheckpointThatResumes() throws Exception {
        Path outDir = dir.resolve("killed");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-cp", classPath, "dev.moesr.app.Main"));
        cmd.addAll(List.of(stage1("killed", 0, 1_000_000, "--checkpoint-every", "1")));
        // stdout to a file: destroy() closes the pipes, so lines written after the signal would be lost
        Path stdout = dir.resolve("child.out"), stderr = dir.resolve("child.err");
        Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!Files.readString(stdout).contains("\"checkpoint\"")) {
                assertTrue(p.isAlive() && System.nanoTime() < deadline, "no checkpoint event; stdout " + Files.readString(stdout) + ", stderr " + Files.readString(stderr));
                Thread.sleep(20);
            }
            p.destroy();   // SIGTERM: the shutdown hooks run
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the training process did not end after SIGTERM");
        } finally {
            p.destroyForcibly();
        }
        String out = Files.readString(stdout);
        assertTrue(out.contains("\"interrupted\""), "no interrupted event (exit " + p.exitValue() + "): " + out + Files.readString(stderr));
        Path ckpt = outDir.resolve("stage1-expert0.safetensors");
        try (var files = Files.list(outDir)) {
            assertEquals(List.of(ckpt.getFileName().toString()), files.map(f -> f.getFileName().toString()).toList(),
                    "the output folder holds only the checkpoint (no temporary file)");
        }
        SafeTensors.Contents c = SafeTensors.read(ckpt);
        long step = Long.parseLong(c.metadata().get("step"));
        c.tensors().values().forEach(t -> t.release());
        assertTrue(step > 0, "checkpoint step " + step);
        String interrupted = out.lines().filter(l -> l.contains("\"interrupted\"")).findFirst().orElseThrow();
        Matcher at = Pattern.compile("\"step\": ?(\\d+)").matcher(interrupted);
        assertTrue(at.find(), interrupted);
        assertEquals(step, Long.parseLong(at.group(1)), "the checkpoint holds the step the run stopped at: " + interrupted);
        Result resumed = ok(stage1("killed", 0, (int) step + 1, "--resume", ckpt.toString()));
        assertTrue(resumed.out().contains("\"resumed\""), resumed.out());
        assertEquals(1, losses(resumed).size(), resumed.out());
    }

    String[] stage0(String out, int steps, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--stage", "0", "--config", "tiny", "--data", PHOTOS.toString(),
                "--steps", Integer.toString(steps), "--batch", "2", "--crop", "32", "--device", "cpu", "--seed", "3",
                "--out", dir.resolve(out).toString(), "--json"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void stage0LowersTheReconstructionLossAndResumesExactly() {
        Result whole = ok(stage0("vq", 60, "--lr", "5e-4"));
        List<Double> l = losses(whole);
        List<Double> l1 = new ArrayList<>();
        Matcher m = Pattern.compile("\"l1\": ?([-0-9.eE]+)").matcher(whole.out());
        while (m.find()) l1.add(Double.parseDouble(m.group(1)));
        assertEquals(60, l1.size());
        // Measured: the objective falls from 0.77 to about 0.45 (mostly the codebook/commitment term);
        // in 60 CPU steps the tiny VQ's L1 only creeps down (0.466 -> about 0.45): it learns colours, not detail.
        double lastLoss = mean(l.subList(50, 60)), lastL1 = mean(l1.subList(50, 60));
        System.out.printf("stage 0 tiny: loss %.4f -> %.4f (last 10), L1 %.4f -> %.4f (last 10)%n", l.get(0), lastLoss, l1.get(0), lastL1);
        assertTrue(lastLoss < 0.7 * l.get(0), "loss " + l.get(0) + " -> " + lastLoss);
        assertTrue(lastL1 < l1.get(0), "L1 " + l1.get(0) + " -> " + lastL1);
        List<Double> part = losses(ok(stage0("vq2", 3, "--lr", "5e-4")));
        part.addAll(losses(ok(stage0("vq2", 5, "--lr", "5e-4", "--resume", dir.resolve("vq2/stage0.safetensors").toString()))));
        assertEquals(l.subList(0, 5), part);
    }

    @Test
    void exportAssemblesAModelFileThatOpens() throws IOException {
        ok(stage0("vq", 2));
        List<String> experts = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            ok(stage1("s1", k, 1, "--first-stage", dir.resolve("vq/stage0.safetensors").toString()));
            experts.add(dir.resolve("s1/stage1-expert" + k + ".safetensors").toString());
        }
        Path model = dir.resolve("model.safetensors");
        Result r = ok("train", "--stage", "export", "--config", "tiny", "--out", model.toString(),
                "--expert-checkpoints", String.join(",", experts), "--first-stage", dir.resolve("vq/stage0.safetensors").toString());
        assertTrue(r.out().contains("wrote"), r.out());
        MoesrModel m = MoesrModel.open(model);
        try {
            assertEquals("tiny", m.config().name());
            assertEquals(4, m.sampling().count());
        } finally {
            m.release();
        }
        // each expert's weights are its checkpoint's EMA shadows, bit for bit (after one step they differ from the raw weights)
        SafeTensors.Contents exported = SafeTensors.read(model);
        boolean emaDiffers = false;
        for (int k = 0; k < 4; k++) {
            SafeTensors.Contents ckpt = SafeTensors.read(Path.of(experts.get(k)));
            for (String name : List.of("time_embed.0.weight", "out.2.weight", "out.2.bias")) {
                float[] ema = ckpt.tensors().get("model_ema." + name.replace(".", "")).toFloatArray();
                assertArrayEquals(ema, exported.tensors().get("sampling.experts." + k + "." + name).toFloatArray(), "expert " + k + " " + name);
                emaDiffers |= !Arrays.equals(ema, ckpt.tensors().get(name).toFloatArray());
            }
        }
        assertTrue(emaDiffers, "the EMA shadows equal the raw weights: the check above could not tell them apart");
        stage2TrainsOnlyTheCompensationAndResumes(model);

        List<String> swapped = new ArrayList<>(experts);
        java.util.Collections.swap(swapped, 0, 1);
        Result wrong = run("train", "--stage", "export", "--config", "tiny", "--out", dir.resolve("bad.safetensors").toString(),
                "--expert-checkpoints", String.join(",", swapped), "--first-stage", dir.resolve("vq/stage0.safetensors").toString());
        assertEquals(1, wrong.code(), wrong.all());
        assertTrue(wrong.err().contains("not a stage-1 checkpoint of expert 0"), wrong.err());
        assertFalse(Files.exists(dir.resolve("bad.safetensors")));

        // an expert checkpoint with a tensor too many, or without one of its EMA shadows, is refused by name
        SafeTensors.Contents e0 = SafeTensors.read(Path.of(experts.get(0)));
        Map<String, Tensor> extra = new LinkedHashMap<>(e0.tensors()), missing = new LinkedHashMap<>(e0.tensors());
        extra.put("stray.weight", Tensor.zeros(2));
        missing.remove("model_ema.out2weight");
        for (var c : List.of(Map.entry("extra", extra), Map.entry("missing", missing))) {
            Path tampered = dir.resolve("e0-" + c.getKey() + ".safetensors");
            SafeTensors.write(tampered, c.getValue(), e0.metadata());
            List<String> list = new ArrayList<>(experts);
            list.set(0, tampered.toString());
            Result refused = run("train", "--stage", "export", "--config", "tiny", "--out", dir.resolve("bad.safetensors").toString(),
                    "--expert-checkpoints", String.join(",", list), "--first-stage", dir.resolve("vq/stage0.safetensors").toString());
            assertEquals(1, refused.code(), refused.all());
            assertTrue(refused.err().contains(c.getKey().equals("extra") ? "unexpected tensor stray.weight" : "no tensor model_ema.out2weight"), refused.err());
            assertFalse(Files.exists(dir.resolve("bad.safetensors")));
        }
    }

    String[] stage2(Path model, String out, int steps, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--stage", "2", "--config", "tiny", "--data", PHOTOS.toString(), "--model", model.toString(),
                "--triples", "3", "--sampling-steps", "4", "--cache", dir.resolve("triples").toString(), "--disc-start", "1",
                "--steps", Integer.toString(steps), "--batch", "2", "--crop", "32", "--device", "cpu", "--seed", "9", "--lr", "1e-3",
                "--out", dir.resolve(out).toString(), "--json"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    /** Stage 2 from an exported model: only fusion layers, refinement UNet (and discriminator) change; resume is exact. */
    void stage2TrainsOnlyTheCompensationAndResumes(Path model) throws IOException {
        Result whole = ok(stage2(model, "s2", 3));
        assertTrue(whole.out().contains("\"made\": 3"), whole.out());
        assertTrue(whole.err().contains("no --lpips-weights"), whole.err());
        assertTrue(whole.out().contains("\"adaptive_weight\""), whole.out());
        SafeTensors.Contents before = SafeTensors.read(model), after = SafeTensors.read(dir.resolve("s2/stage2.safetensors"));
        int frozen = 0, trained = 0, changed = 0;
        for (var e : after.tensors().entrySet()) {
            if (!e.getKey().startsWith("first_stage.")) continue;
            float[] a = e.getValue().toFloatArray(), b = before.tensors().get(e.getKey()).toFloatArray();
            boolean compensation = e.getKey().startsWith("first_stage.decoder.fusion_layer_") || e.getKey().startsWith("first_stage.decoder.unet_1.");
            if (compensation) {
                trained++;
                if (!Arrays.equals(a, b)) changed++;
            } else {
                frozen++;
                assertArrayEquals(b, a, e.getKey() + " is frozen in stage 2 but changed");
            }
        }
        assertTrue(frozen > 50 && trained > 10, frozen + " frozen, " + trained + " trained tensors");
        assertTrue(changed > trained / 2, changed + " of " + trained + " trainable tensors changed");
        before.tensors().values().forEach(t -> t.release());
        after.tensors().values().forEach(t -> t.release());

        List<Double> part = losses(ok(stage2(model, "s2b", 2)));
        Result rest = ok(stage2(model, "s2b", 3, "--resume", dir.resolve("s2b/stage2.safetensors").toString()));
        assertTrue(rest.out().contains("\"made\": 0"), rest.out());
        part.addAll(losses(rest));
        // The GAN starts at step 1, so the resumed step 3 runs all passes (generator-loss pass
        // included): its losses, gradient norms and adaptive weight equal the uninterrupted run's, bit for bit.
        assertEquals(losses(whole), part);
        for (String term : List.of("l1", "focal_frequency", "g_loss", "d_loss", "adaptive_weight", "grad_norm_nll", "grad_norm_g")) {
            assertEquals(field(whole, term, 2), field(rest, term, 0), term);
        }
        // validation every step: an image of a held triple decoded, its metrics, the training unchanged
        Result validated = ok(stage2(model, "s2v", 2, "--validate-every", "1"));
        assertEquals(losses(whole).subList(0, 2), losses(validated));
        List<String> events = validated.out().lines().filter(l -> l.contains("\"validation\"")).toList();
        assertEquals(2, events.size(), validated.out());
        for (int step : new int[] {1, 2}) {
            Image img = ImageFiles.read(dir.resolve("s2v/validation/stage2-step" + step + ".png"));
            assertEquals(4 * 32, img.width());
            double l1 = numberIn(events.get(step - 1), "val_l1"), ssim = numberIn(events.get(step - 1), "val_ssim");
            assertTrue(l1 > 0 && l1 < 2 && ssim > -1 && ssim <= 1, events.get(step - 1));
        }
        // two micro-batches of 2 per step (DecoderTrainerTest checks the accumulated gradient itself)
        Result accumulated = ok(stage2(model, "s2c", 2, "--accumulate", "2"));
        assertEquals(2, losses(accumulated).size(), accumulated.out());
        assertTrue(losses(accumulated).stream().allMatch(Double::isFinite), accumulated.out());
    }
}
