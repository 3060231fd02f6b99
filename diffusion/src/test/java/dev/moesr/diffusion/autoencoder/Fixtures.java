package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/** The PyTorch fixtures of diffusion/src/test/python/make_autoencoder_fixtures.py and how to compare against them. */
public final class Fixtures {
    /**
     * The agreed tolerance: 1e-4 relative to each value, with a floor for values near 0 (where
     * rounding in sums that cancel dominates): 1e-2 of the tensor's largest magnitude for forward
     * values, 1e-1 for gradients, which go through longer chains of such sums (float32 PyTorch
     * itself differs from a float64 run by ~2e-6 of the largest input gradient of the tiny VQ model).
     */
    public static final double RTOL = 1e-4;
    private static final double FORWARD_FLOOR = 1e-2, GRADIENT_FLOOR = 1e-1;

    private Fixtures() {}

    /** Reads {@code name} ("autoencoder/vq_tiny") from the test resources. */
    public static SafeTensors.Contents load(String name) throws IOException {
        URL url = Fixtures.class.getResource("/" + name + ".safetensors");
        assertNotNull(url, "fixture " + name + " is missing: run /usr/bin/python3 diffusion/src/test/python/make_autoencoder_fixtures.py");
        try {
            return SafeTensors.read(Path.of(url.toURI()));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The entries whose names start with {@code prefix}, with the prefix removed. */
    public static Map<String, Tensor> under(Map<String, Tensor> all, String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : all.entrySet()) if (e.getKey().startsWith(prefix)) out.put(e.getKey().substring(prefix.length()), e.getValue());
        return out;
    }

    public static int metaInt(SafeTensors.Contents c, String key) { return Integer.parseInt(meta(c, key)); }

    public static String meta(SafeTensors.Contents c, String key) {
        String v = c.metadata().get(key);
        assertNotNull(v, "fixture metadata has no '" + key + "'");
        return v;
    }

    public static List<Integer> metaInts(SafeTensors.Contents c, String key) {
        return Arrays.stream(meta(c, key).split(",")).map(Integer::valueOf).toList();
    }

    public static List<String> metaList(SafeTensors.Contents c, String key) { return List.of(meta(c, key).split(",")); }

    /** The tiny VqConfig a fixture was made with. */
    public static VqConfig vqConfig(SafeTensors.Contents c) {
        return new VqConfig(3, 3, metaInt(c, "ch"), metaInts(c, "ch_mult"), metaInt(c, "num_res_blocks"), metaInt(c, "z_channels"),
                metaInt(c, "embed_dim"), metaInt(c, "n_embed"), metaInt(c, "groups"), 1e-6f, 0.25f);
    }

    public static void assertClose(Tensor expected, Tensor got, String what) { assertClose(expected, got, RTOL, FORWARD_FLOOR, what); }

    public static void assertGradClose(Tensor expected, Tensor got, String what) { assertClose(expected, got, RTOL, GRADIENT_FLOOR, what); }

    public static void assertClose(Tensor expected, Tensor got, double rtol, double floor, String what) {
        assertNotNull(got, what + " is missing (null)");
        assertArrayEquals(expected.dims(), got.dims(), what + " shape");
        float[] e = expected.toFloatArray(), g = got.toFloatArray();
        double maxAbs = 0;
        for (float v : e) maxAbs = Math.max(maxAbs, Math.abs(v));
        for (int i = 0; i < e.length; i++) {
            double tol = rtol * (Math.abs(e[i]) + floor * maxAbs);
            if (!(Math.abs(e[i] - g[i]) <= tol)) {
                fail(what + " at flat index " + i + ": got " + g[i] + ", PyTorch " + e[i] + " (tolerance " + tol + ")");
            }
        }
    }
}
