package dev.moesr.diffusion.lpips;

import dev.moesr.diffusion.autoencoder.Fixtures;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.moesr.diffusion.autoencoder.Fixtures.assertClose;
import static dev.moesr.diffusion.autoencoder.Fixtures.assertGradClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LPIPS-VGG on a narrow backbone with random weights against a PyTorch model of the same architecture. */
class LpipsTest {
    private Scope scope;
    @TempDir Path dir;

    @BeforeEach void open() { scope = Scope.open(); }

    @AfterEach void close() { scope.close(); }

    private static Lpips tiny(SafeTensors.Contents c) {
        return new Lpips(Fixtures.metaInts(c, "widths"), new Philox(9));
    }

    @Test
    void distanceAndInputGradientMatchPyTorch() throws IOException {
        SafeTensors.Contents c = Fixtures.load("autoencoder/lpips_tiny");
        Map<String, Tensor> t = c.tensors();
        Lpips lpips = tiny(c);
        lpips.loadStateDict(Fixtures.under(t, "module."), true);
        Tensor a = t.get("a").requiresGrad();
        Tensor d = lpips.forward(a, t.get("b"));
        assertClose(t.get("distance"), d, "LPIPS distances");
        d.sum().backward();
        assertGradClose(t.get("grad.a"), a.grad(), "gradient of the first image");
        assertTrue(lpips.namedParameters().values().stream().allMatch(p -> p.grad() == null), "LPIPS weights are frozen");
    }

    @Test
    void identicalImagesAreAtDistanceZero() throws IOException {
        Lpips lpips = tiny(Fixtures.load("autoencoder/lpips_tiny"));
        Tensor x = Tensor.rand(new Philox(4), 1, 3, 16, 16).mul(2f).sub(1f);
        assertEquals(0f, lpips.forward(x, x).item(), 0f);
    }

    @Test
    void loadsConvertedWeightsUnderEitherNaming() throws IOException {
        SafeTensors.Contents c = Fixtures.load("autoencoder/lpips_tiny");
        Map<String, Tensor> t = c.tensors();
        Map<String, Tensor> state = Fixtures.under(t, "module.");
        // torchvision names for the backbone, the lpips package's duplicate lins.{l} for the heads, no scaling buffers
        Map<String, Tensor> converted = new LinkedHashMap<>();
        for (var e : state.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("scaling_layer.")) continue;
            if (k.startsWith("net.slice")) k = "features." + k.substring(k.indexOf('.', "net.slice".length()) + 1);
            converted.put(k, e.getValue());
            if (k.startsWith("lin")) converted.put("lins." + k.charAt(3) + k.substring(4), e.getValue());
        }
        assertTrue(converted.containsKey("features.28.weight") && converted.containsKey("lins.4.model.1.weight"));
        Path file = dir.resolve("lpips.safetensors");
        SafeTensors.write(file, converted, Map.of());
        Lpips lpips = tiny(c);
        lpips.loadWeights(file);
        assertClose(t.get("distance"), lpips.forward(t.get("a"), t.get("b")), "distances after loading converted weights");
    }

    @Test
    void incompleteWeightFilesAreRejectedWithoutChangingTheModel() throws IOException {
        SafeTensors.Contents c = Fixtures.load("autoencoder/lpips_tiny");
        Map<String, Tensor> state = new LinkedHashMap<>(Fixtures.under(c.tensors(), "module."));
        state.remove("lin2.model.1.weight");
        state.put("classifier.0.weight", Tensor.zeros(2, 2));
        Path file = dir.resolve("broken.safetensors");
        SafeTensors.write(file, state, Map.of());
        Lpips lpips = tiny(c);
        float[] before = lpips.stateDict().get("net.slice1.0.weight").toFloatArray();
        var e = assertThrows(IllegalArgumentException.class, () -> lpips.loadWeights(file));
        assertTrue(e.getMessage().contains("lin2.model.1.weight") && e.getMessage().contains("classifier.0.weight"), e.getMessage());
        assertArrayEquals(before, lpips.stateDict().get("net.slice1.0.weight").toFloatArray(), "nothing was written");
    }

    @Test
    void realArchitectureHasVgg16Shapes() {
        assertEquals("net.slice3.14.weight", Lpips.ourName("features.14.weight"));
        assertEquals("net.slice5.28.bias", Lpips.ourName("features.28.bias"));
        assertEquals("lin0.model.1.weight", Lpips.ourName("lins.0.model.1.weight"));
        Lpips tiny = new Lpips(List.of(2, 2, 2, 2, 2), new Philox(1));
        assertEquals(List.of("scaling_layer.shift", "scaling_layer.scale", "net.slice1.0.weight", "net.slice1.0.bias", "net.slice1.2.weight"),
                List.copyOf(tiny.stateDict().keySet()).subList(0, 5));
        assertTrue(tiny.stateDict().containsKey("net.slice2.7.weight") && tiny.stateDict().containsKey("net.slice4.21.bias"));
        assertThrows(IllegalArgumentException.class, () -> tiny.forward(Tensor.zeros(1, 3, 8, 8), Tensor.zeros(1, 3, 8, 8)));
        assertThrows(IllegalArgumentException.class, () -> tiny.forward(Tensor.zeros(1, 3, 16, 16), Tensor.zeros(1, 3, 16, 17)));
        assertThrows(IllegalArgumentException.class, () -> new Lpips(List.of(64, 128), new Philox(1)));
    }
}
