package dev.moesr.app.data;

import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** The image files of one folder (not its subfolders), found by extension and sorted by name. */
public final class ImageFolder {
    private ImageFolder() {}

    /** The images in {@code dir}, sorted; an error when the folder is missing or holds no image. */
    public static List<Path> list(Path dir) throws ImageException {
        List<Path> images = new ArrayList<>(scan(dir).images());   // a list the caller may change, as before
        if (images.isEmpty()) {
            throw new ImageException(dir + ": holds no images (looked for " + String.join(", ", sortedExtensions()) + " files)");
        }
        return images;
    }

    /** A file of a folder that is not taken as an image, and why, in words for the user. */
    public record Skipped(Path file, String reason) {
        /** "skipped a.gif: not an image format moesr reads (.gif)". */
        public String message() {
            return "skipped " + file.getFileName() + ": " + reason;
        }
    }

    /**
     * What a folder holds: its images (as {@link #list} finds them, sorted) and every other entry
     * with the reason it is skipped (sorted), so that a command can say which files it leaves out.
     * Hidden files (a name starting with '.') are left out of both. Unlike {@link #list}, a folder
     * without images is no error here.
     */
    public record Scan(List<Path> images, List<Skipped> skipped) {}

    /** Scans {@code dir} (not its subfolders); an error when the folder is missing or cannot be listed. */
    public static Scan scan(Path dir) throws ImageException {
        if (!Files.exists(dir)) throw new ImageException(dir + ": no such folder");
        if (!Files.isDirectory(dir)) throw new ImageException(dir + ": is a file, not a folder");
        List<Path> images = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                if (p.getFileName().toString().startsWith(".")) continue;
                String ext = ImageFiles.extension(p);
                if (Files.isDirectory(p)) {
                    skipped.add(new Skipped(p, "a folder (subfolders are not searched)"));
                } else if (!ImageFiles.IMAGE_EXTENSIONS.contains(ext)) {
                    skipped.add(new Skipped(p, "not an image format moesr reads (" + (ext.isEmpty() ? "no extension" : "." + ext) + ")"));
                } else if (!Files.isRegularFile(p)) {
                    skipped.add(new Skipped(p, "not a regular file"));
                } else {
                    images.add(p);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            throw new ImageException(dir + ": cannot list the folder (" + e.getMessage() + ")", e);
        }
        images.sort(null);
        skipped.sort(Comparator.comparing(Skipped::file));
        return new Scan(List.copyOf(images), List.copyOf(skipped));
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
