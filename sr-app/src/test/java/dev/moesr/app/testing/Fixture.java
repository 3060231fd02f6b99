package dev.moesr.app.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A golden-value file written by a script under src/test/python: one case per line, "key"
 * followed by space-separated tokens; lines starting with # are comments.
 */
public final class Fixture {
    private final Map<String, String[]> lines = new LinkedHashMap<>();
    private final String resource;

    public Fixture(String resource) {
        this.resource = resource;
        try (InputStream in = Fixture.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("test resource " + resource + " is missing; run the script under src/test/python");
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] p = line.trim().split(" ");
                lines.put(p[0], Arrays.copyOfRange(p, 1, p.length));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public boolean has(String key) { return lines.containsKey(key); }

    /** The tokens after the key. */
    public String[] tokens(String key) {
        String[] t = lines.get(key);
        if (t == null) throw new IllegalArgumentException(resource + " has no line '" + key + "'");
        return t;
    }

    /** The tokens after the key from position {@code from} on, as doubles ("nan" included). */
    public double[] doubles(String key, int from) {
        String[] t = tokens(key);
        double[] v = new double[t.length - from];
        for (int i = from; i < t.length; i++) v[i - from] = parse(t[i]);
        return v;
    }

    public double[] doubles(String key) { return doubles(key, 0); }

    public float[] floats(String key, int from) {
        double[] d = doubles(key, from);
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    private static double parse(String s) {
        return switch (s) {
            case "nan" -> Double.NaN;
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(s);
        };
    }
}
