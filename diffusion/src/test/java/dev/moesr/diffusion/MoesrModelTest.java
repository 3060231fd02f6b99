package dev.moesr.diffusion;

import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class MoesrModelTest {

    @Test
    void savesAndLoadsEveryWeightWithItsConfiguration(@TempDir Path dir) throws IOException {
        MoesrModel m = new MoesrModel(MoesrConfig.tiny(), new Philox(3));
        Path f = dir.resolve("tiny.safetensors");
        m.save(f);
        MoesrModel back = MoesrModel.open(f);
        assertEquals(m.config(), back.config());
        Map<String, Tensor> a = m.stateDict(), b = back.stateDict();
        assertEquals(a.keySet(), b.keySet());
        assertTrue(a.keySet().stream().anyMatch(k -> k.startsWith("sampling.experts.3.")), "four experts");
        assertTrue(a.keySet().stream().anyMatch(k -> k.startsWith("first_stage.decoder.")), "the first stage");
        for (String k : a.keySet()) assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), k);
        m.release();
        back.release();
    }

    @Test
    void filesThatAreNotModelsOrAreCutShortAreRefused(@TempDir Path dir) throws IOException {
        Path other = dir.resolve("other.safetensors");
        SafeTensors.write(other, Map.of("x", Tensor.zeros(2)), Map.of());
        assertTrue(assertThrows(IOException.class, () -> MoesrModel.open(other)).getMessage().contains("not a moesr model file"));

        MoesrModel m = new MoesrModel(MoesrConfig.tiny(), new Philox(3));
        Path f = dir.resolve("tiny.safetensors");
        m.save(f);
        byte[] bytes = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertThrows(IOException.class, () -> MoesrModel.open(cut));
        assertThrows(IOException.class, () -> MoesrModel.open(dir.resolve("missing.safetensors")));
        m.release();
    }
}
