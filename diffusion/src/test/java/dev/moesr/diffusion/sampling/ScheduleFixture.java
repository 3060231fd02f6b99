package dev.moesr.diffusion.sampling;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** Reads schedule_fixture.txt (lines "name v1 v2 ..."), written by src/test/python/make_schedule_fixture.py. */
final class ScheduleFixture {
    private final Map<String, double[]> values = new HashMap<>();

    ScheduleFixture() throws IOException {
        try (InputStream in = ScheduleFixture.class.getResourceAsStream("/schedule_fixture.txt")) {
            if (in == null) throw new IOException("schedule_fixture.txt missing from test resources");
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] parts = line.trim().split(" ");
                double[] v = new double[parts.length - 1];
                for (int i = 1; i < parts.length; i++) v[i - 1] = Double.parseDouble(parts[i]);
                values.put(parts[0], v);
            }
        }
    }

    double[] get(String name) {
        double[] v = values.get(name);
        if (v == null) throw new IllegalArgumentException("no " + name + " in the fixture");
        return v;
    }
}
