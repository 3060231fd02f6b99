package dev.moesr.app.data;

import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** The image files of one folder (not its subfolders), found by extension and sorted by name. */
public final class ImageFolder {
    private ImageFolder() {}

    /** The images in {@code dir}, sorted; an error when the folder is missing or holds no image. */
    public static List<Path> list(Path dir) throws ImageException {
        if (!Files.exists(dir)) throw new ImageException(dir + ": no such folder");
        if (!Files.isDirectory(dir)) throw new ImageException(dir + ": is a file, not a folder");
        List<Path> images = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            entries.filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> ImageFiles.IMAGE_EXTENSIONS.contains(ImageFiles.extension(p)))
                    .filter(Files::isRegularFile)
                    .forEach(images::add);
        } catch (IOException e) {
            throw new ImageException(dir + ": cannot list the folder (" + e.getMessage() + ")", e);
        }
        if (images.isEmpty()) {
            throw new ImageException(dir + ": holds no images (looked for " + String.join(", ", sortedExtensions()) + " files)");
        }
        images.sort(null);
        return images;
    }

    /** The images of {@code dir} by file name without extension; two files with the same stem are an error. */
    public static Map<String, Path> byStem(Path dir) throws ImageException {
        Map<String, Path> out = new TreeMap<>();
        for (Path p : list(dir)) {
            Path other = out.put(ImageFiles.stem(p), p);
            if (other != null) {
                throw new ImageException(dir + ": " + other.getFileName() + " and " + p.getFileName()
                        + " have the same name; pairs are matched by name, so keep one of them");
            }
        }
        return out;
    }

    private static List<String> sortedExtensions() {
        List<String> e = new ArrayList<>();
        for (String x : ImageFiles.IMAGE_EXTENSIONS) e.add("." + x);
        e.sort(null);
        return e;
    }
}
