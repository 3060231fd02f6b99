package dev.moesr.app.data;

import dev.moesr.app.image.ImageException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Images of two folders matched by file name without extension ("0801.png" with "0801.jpg").
 *
 * @param pairs the matched pairs, sorted by name
 * @param onlyFirst names found only in the first folder
 * @param onlyReference names found only in the reference folder
 */
public record Pairing(List<ImagePair> pairs, List<String> onlyFirst, List<String> onlyReference) {

    public static Pairing of(Path firstDir, Path referenceDir) throws ImageException {
        Map<String, Path> first = ImageFolder.byStem(firstDir), reference = ImageFolder.byStem(referenceDir);
        List<ImagePair> pairs = new ArrayList<>();
        List<String> onlyFirst = new ArrayList<>(), onlyReference = new ArrayList<>();
        for (Map.Entry<String, Path> e : first.entrySet()) {
            Path ref = reference.get(e.getKey());
            if (ref == null) onlyFirst.add(e.getKey());
            else pairs.add(new ImagePair(e.getKey(), e.getValue(), ref));
        }
        for (String name : reference.keySet()) if (!first.containsKey(name)) onlyReference.add(name);
        return new Pairing(List.copyOf(pairs), List.copyOf(onlyFirst), List.copyOf(onlyReference));
    }

    /** Throws unless every image of the first folder has a partner. */
    public Pairing requireAllFirstMatched(Path firstDir, Path referenceDir) throws ImageException {
        if (!onlyFirst.isEmpty()) {
            throw new ImageException(onlyFirst.size() + " image(s) in " + firstDir + " have no partner of the same name in " + referenceDir
                    + ": " + preview(onlyFirst));
        }
        return this;
    }

    /** Throws unless both folders hold exactly the same names. */
    public Pairing requireExactMatch(Path firstDir, Path referenceDir) throws ImageException {
        requireAllFirstMatched(firstDir, referenceDir);
        if (!onlyReference.isEmpty()) {
            throw new ImageException(onlyReference.size() + " image(s) in " + referenceDir + " have no partner of the same name in " + firstDir
                    + ": " + preview(onlyReference));
        }
        return this;
    }

    private static String preview(List<String> names) {
        return names.size() <= 5 ? String.join(", ", names) : String.join(", ", names.subList(0, 5)) + ", ...";
    }
}
