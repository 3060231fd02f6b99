package dev.moesr.app;

import dev.moesr.app.CommandRunner.Result;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.diffusion.MoesrModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        Result crop = run(stage1("e2b", 2, 2, "--resume", ckpt.toString(), "--batch", "3"));
        assertEquals(1, crop.code(), crop.all());
        assertTrue(crop.err().contains("train.batch"), crop.err());
        Result config = run("train", "--stage", "1", "--config", "moesr-x4", "--expert", "2", "--data", PHOTOS.toString(), "--crop", "32",
                "--out", dir.resolve("x4").toString(), "--resume", ckpt.toString(), "--device", "cpu");
        assertEquals(1, config.code(), config.all());
        assertTrue(config.err().contains("moesr.name"), config.err());
    }
}
