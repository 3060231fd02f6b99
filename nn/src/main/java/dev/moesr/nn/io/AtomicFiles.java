package dev.moesr.nn.io;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;

/**
 * Writing a file so that it appears whole or not at all: the data goes to a temporary file in
 * the same folder, which then replaces the target in one rename. Used for checkpoints, model
 * files and images.
 */
public final class AtomicFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFiles() {}

    /**
     * A new empty file {@code .<name>.<random>.tmp} beside {@code target}, created with the
     * default permissions (as the target itself would be: {@code Files.createTempFile} would
     * make it readable by its owner only, and the rename would keep that).
     */
    public static Path newTemporarySibling(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + abs.getFileName() + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
            try {
                return Files.createFile(tmp);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 16) throw e;
            }
        }
    }

    /** Renames {@code tmp} over {@code target}, atomically where the file system can. */
    public static void replace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
