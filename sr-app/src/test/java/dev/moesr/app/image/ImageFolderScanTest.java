package dev.moesr.app.image;

import dev.moesr.app.data.ImageFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** ImageFolder.scan: the images of a folder, and every other file with the reason it is left out. */
class ImageFolderScanTest {
    @TempDir
    Path dir;

    @Test
    void skippedFilesComeWithTheirReason() throws IOException {
        Image img = new Image(3, 2, 2, new float[12]);
        ImageFiles.write(dir.resolve("b.png"), img);
        ImageFiles.write(dir.resolve("a.jpg"), img);
        Files.copy(ImageFilesFormatsTest.fixture("pattern.webp"), dir.resolve("c.webp"));
        Files.copy(ImageFilesFormatsTest.fixture("pattern.tif"), dir.resolve("d.TIF"));
        Files.copy(ImageFilesFormatsTest.fixture("pattern-lzw.tif"), dir.resolve("e.tiff"));
        Files.writeString(dir.resolve("anim.gif"), "GIF89a");
        Files.writeString(dir.resolve("notes.txt"), "x");
        Files.writeString(dir.resolve("README"), "x");
        Files.writeString(dir.resolve(".DS_Store"), "x");
        Files.createDirectory(dir.resolve("more.png"));

        ImageFolder.Scan scan = ImageFolder.scan(dir);
        assertEquals(List.of("a.jpg", "b.png", "c.webp", "d.TIF", "e.tiff"), scan.images().stream().map(p -> p.getFileName().toString()).toList());
        assertEquals(List.of(
                "skipped README: not an image format moesr reads (no extension)",
                "skipped anim.gif: not an image format moesr reads (.gif)",
                "skipped more.png: a folder (subfolders are not searched)",
                "skipped notes.txt: not an image format moesr reads (.txt)"),
                scan.skipped().stream().map(ImageFolder.Skipped::message).toList());
        assertEquals(scan.images(), ImageFolder.list(dir), "list gives the same images");
        for (Path p : scan.images()) {
            boolean written = p.getFileName().toString().matches("[ab]\\..*");
            assertEquals(written ? 2 : 6, ImageFiles.read(p).height(), p + " reads");
        }
    }

    @Test
    void aFolderWithoutImagesScansEmptyButListRefusesIt() throws IOException {
        Files.writeString(dir.resolve("a.gif"), "GIF89a");
        ImageFolder.Scan scan = ImageFolder.scan(dir);
        assertTrue(scan.images().isEmpty());
        assertEquals(1, scan.skipped().size());
        var e = assertThrows(ImageException.class, () -> ImageFolder.list(dir));
        assertTrue(e.getMessage().contains("holds no images") && e.getMessage().contains(".webp") && e.getMessage().contains(".tiff"),
                e.getMessage());
        assertTrue(assertThrows(ImageException.class, () -> ImageFolder.scan(dir.resolve("nope"))).getMessage().contains("no such folder"));
    }
}
