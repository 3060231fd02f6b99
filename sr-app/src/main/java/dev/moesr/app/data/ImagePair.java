package dev.moesr.app.data;

import java.nio.file.Path;

/** Two files that belong together: a low-resolution (or result) image and its reference. */
public record ImagePair(String name, Path first, Path reference) {}
