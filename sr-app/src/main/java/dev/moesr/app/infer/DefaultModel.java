package dev.moesr.app.infer;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where the shipped model is: {@code models/moesr-x4-small.safetensors} of the repository (trained
 * on a CPU by tools/train-default.sh; docs/default-model.md). Looked for, in order, at the path in
 * the system property {@code moesr.model} or the environment variable {@code MOESR_MODEL}, then
 * beside the running jar or classes ({@code <jar folder>/models/}, and two and three folders up,
 * which is the repository root for {@code sr-app/target/sr-app.jar} and for the test classes),
 * then under the working folder.
 */
public final class DefaultModel {
    public static final String FILE_NAME = "moesr-x4-small.safetensors";

    private DefaultModel() {}

    /** The places looked at, in order. */
    public static List<Path> candidates() {
        List<Path> c = new ArrayList<>();
        String explicit = System.getProperty("moesr.model", System.getenv("MOESR_MODEL"));
        if (explicit != null && !explicit.isBlank()) {
            c.add(Path.of(explicit));
            return c;   // a path given on purpose is the only one: no silent fallback to another model
        }
        try {
            Path code = Path.of(DefaultModel.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
            Path dir = Files.isDirectory(code) ? code : code.getParent();
            for (int up = 0; up <= 3 && dir != null; up++, dir = dir.getParent()) c.add(dir.resolve("models").resolve(FILE_NAME));
        } catch (URISyntaxException | RuntimeException e) {
            // no code location (an unusual class loader): the working folder below still counts
        }
        c.add(Path.of("models", FILE_NAME).toAbsolutePath());
        return c;
    }

    /** The shipped model's file, if one of the candidates exists. */
    public static Optional<Path> find() {
        for (Path p : candidates()) if (Files.isRegularFile(p)) return Optional.of(p);
        return Optional.empty();
    }

    /** The file, or an error that says where it was looked for and what to do. */
    public static Path require() throws java.io.IOException {
        return find().orElseThrow(() -> new java.io.IOException("no --model given and the shipped model " + FILE_NAME + " was not found (looked at "
                + candidates() + "); pass --model FILE, or set MOESR_MODEL"));
    }
}
