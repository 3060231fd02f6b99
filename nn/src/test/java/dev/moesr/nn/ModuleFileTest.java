package dev.moesr.nn;

import dev.moesr.nn.io.SafeTensors;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@SuppressWarnings("try")   // scopes in tests only bound a region
class ModuleFileTest {
    @TempDir Path dir;

    @Test
    void saveThenLoadRestoresEveryTensorAndTheMetadata() throws IOException {
        Toy.Net a = new Toy.Net(3);
        Toy.Net b = new Toy.Net(3);
        InPlace.fill(a.out.bias.tensor(), -1.5f);
        InPlace.fill(a.inputBlocks.get(1).get(1).ownBuffer("counter").tensor(), 42f);
        Path p = dir.resolve("net.safetensors");
        a.save(p, Map.of("model", "toy", "channels", "3"));
        Map<String, String> meta = b.load(p);
        assertEquals(Map.of("model", "toy", "channels", "3"), meta);
        for (var e : a.stateDict().entrySet()) {
            assertArrayEquals(e.getValue().toFloatArray(), b.stateDict().get(e.getKey()).toFloatArray(), e.getKey());
        }
        a.release();
        b.release();
    }

    @Test
    void aCheckpointOfAnotherShapeIsRefusedBeforeAnythingIsRead() throws IOException {
        Toy.Net small = new Toy.Net(2);
        Toy.Net big = new Toy.Net(3);
        float[] before = big.out.weight.tensor().toFloatArray();
        Path p = dir.resolve("small.safetensors");
        small.save(p, Map.of());
        var e = assertThrows(IllegalArgumentException.class, () -> big.load(p));
        assertTrue(e.getMessage().contains("'out.weight'") && e.getMessage().contains("[2]") && e.getMessage().contains("[3]")
                && e.getMessage().contains(p.toString()), e.getMessage());
        assertArrayEquals(before, big.out.weight.tensor().toFloatArray());
        small.release();
        big.release();
    }

    @Test
    void nonStrictLoadReportsMissingAndUnexpectedKeys() throws IOException {
        Toy.Net net = new Toy.Net(2);
        Path p = dir.resolve("partial.safetensors");
        try (Scope s = Scope.open()) {
            Map<String, Tensor> sd = new LinkedHashMap<>(net.stateDict());
            sd.remove("out.bias");
            sd.put("model_ema.decay", Tensor.scalar(0.999f));
            SafeTensors.write(p, sd, null);
        }
        assertThrows(IllegalArgumentException.class, () -> net.load(p));
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            Module.LoadResult r = net.loadFrom(f, false);
            assertEquals(List.of("out.bias"), r.missingKeys());
            assertEquals(List.of("model_ema.decay"), r.unexpectedKeys());
        }
        net.release();
    }
}
