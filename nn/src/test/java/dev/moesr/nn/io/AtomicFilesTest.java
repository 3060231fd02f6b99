package dev.moesr.nn.io;

import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AtomicFilesTest {
    @TempDir Path dir;

    @Test
    void temporarySiblingsAreNewHiddenFilesBesideTheTarget() throws IOException {
        Path target = dir.resolve("model.safetensors");
        Path a = AtomicFiles.newTemporarySibling(target), b = AtomicFiles.newTemporarySibling(target);
        assertNotEquals(a, b);
        for (Path p : new Path[] {a, b}) {
            assertEquals(dir.toAbsolutePath(), p.getParent());
            assertTrue(p.getFileName().toString().startsWith(".model.safetensors.") && p.getFileName().toString().endsWith(".tmp"), p.toString());
            assertEquals(0, Files.size(p));
        }
        Files.writeString(a, "new");
        Files.writeString(target, "old");
        AtomicFiles.replace(a, target);
        assertEquals("new", Files.readString(target));
        assertFalse(Files.exists(a));
    }

    @Test
    void writtenFilesGetTheDefaultPermissionsNotOwnerOnly() throws IOException {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "a POSIX file system");
        Set<PosixFilePermission> usual = Files.getPosixFilePermissions(Files.createFile(dir.resolve("plain")));
        Path written = dir.resolve("w.safetensors");
        SafeTensors.write(written, Map.of("x", Tensor.zeros(2)), null);
        assertEquals(usual, Files.getPosixFilePermissions(written), "permissions of a checkpoint");
    }
}
