package dev.moesr.nn.io.torch;

import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints written by PyTorch's torch.save (nn/src/test/resources/torch/make_fixtures.py): every
 * tensor must come back with its name, shape and dtype, and values equal bit for bit to torch's own
 * conversion to float32 (in {@code <name>.expected.safetensors}).
 */
@Timeout(60)
@SuppressWarnings("try")   // scopes in tests only bound a region
class TorchCheckpointTest {
    static Path fixture(String name) {
        URL url = TorchCheckpointTest.class.getResource("/torch/" + name);
        assertNotNull(url, "fixture " + name + " is missing: run nn/src/test/resources/torch/make_fixtures.py");
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** Every tensor of {@code <name>.pt} against the expected file: names in order, shapes, dtypes and values (float bits; NaNs as one). */
    private static void assertMatchesExpected(String name) throws IOException {
        try (Scope s = Scope.open();
             TorchCheckpoint ck = TorchCheckpoint.open(fixture(name + ".pt"));
             SafeTensorsFile exp = SafeTensorsFile.open(fixture(name + ".expected.safetensors"))) {
            assertEquals(new ArrayList<>(exp.entries().keySet()), new ArrayList<>(ck.tensors().keySet()), name + ": tensor names");
            for (String t : exp.entries().keySet()) {
                TorchCheckpoint.Entry e = ck.tensors().get(t);
                assertArrayEquals(exp.entries().get(t).shape(), e.shape(), name + ": shape of " + t);
                assertEquals(exp.metadata().get("dtype:" + t), e.dtype(), name + ": dtype of " + t);
                float[] want = exp.read(t).toFloatArray();
                float[] got = ck.readFloats(t);
                assertEquals(want.length, got.length, name + ": length of " + t);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]),
                            name + ": " + t + "[" + i + "] is " + got[i] + ", torch says " + want[i]);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dtypes", "module", "proto4", "deflated", "lightning", "views", "nested", "legacy"})
    void everyTensorMatchesTorchBitForBit(String name) throws IOException {
        assertMatchesExpected(name);
    }

    @Test
    void everyDtypeIsNamedAsSafetensorsNamesIt() throws IOException {
        try (TorchCheckpoint ck = TorchCheckpoint.open(fixture("dtypes.pt"))) {
            assertEquals("zip", ck.format());
            Map<String, TorchCheckpoint.Entry> t = ck.tensors();
            assertEquals("F32", t.get("f32").dtype());
            assertEquals("F16", t.get("f16").dtype());
            assertEquals("BF16", t.get("bf16").dtype());
            assertEquals("F64", t.get("f64").dtype());
            assertEquals("I64", t.get("i64").dtype());
            assertEquals("I32", t.get("i32").dtype());
            assertEquals("I16", t.get("i16").dtype());
            assertEquals("I8", t.get("i8").dtype());
            assertEquals("U8", t.get("u8").dtype());
            assertEquals("BOOL", t.get("bool").dtype());
            assertArrayEquals(new int[0], t.get("num_batches_tracked").shape());
            assertArrayEquals(new float[] {7}, ck.readFloats("num_batches_tracked"));
            assertArrayEquals(new int[] {0, 3}, t.get("empty").shape());
            assertEquals(0, ck.readFloats("empty").length);
            // int64 beyond 2^24 is rounded to nearest, as torch rounds it.
            assertEquals((float) (1L << 40), ck.readFloats("i64")[0]);
            assertArrayEquals(new float[] {0, 1, 128, 255}, ck.readFloats("u8"));
            assertArrayEquals(new float[] {1, 0, 1, 1}, ck.readFloats("bool"));
            assertTrue(ck.metadata().isEmpty());
        }
    }

    @Test
    void moduleStateDictKeepsItsBuffersAndIgnoresItsMetadataAttribute() throws IOException {
        try (TorchCheckpoint ck = TorchCheckpoint.open(fixture("module.pt"))) {
            assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
                    "4.weight", "4.bias"), new ArrayList<>(ck.tensors().keySet()));
            assertArrayEquals(new int[] {4, 3, 3, 3}, ck.tensors().get("0.weight").shape());
            assertEquals("I64", ck.tensors().get("1.num_batches_tracked").dtype());
            assertArrayEquals(new float[] {12}, ck.readFloats("1.num_batches_tracked"));
        }
    }

    @Test
    void lightningCheckpointGivesItsStateDictAndScalarMetadata() throws IOException {
        try (TorchCheckpoint ck = TorchCheckpoint.open(fixture("lightning.pt"))) {
            for (String name : ck.tensors().keySet()) assertTrue(name.startsWith("model."), name + " is not from the state_dict");
            assertEquals(9, ck.tensors().size());
            Map<String, Object> meta = ck.metadata();
            assertEquals(3L, meta.get("epoch"));
            assertEquals(120L, meta.get("global_step"));
            assertEquals("2.1.3", meta.get("pytorch-lightning_version"));
            assertEquals("kwargs", meta.get("hparams_name"));
            assertEquals(0.125, meta.get("best_val"));
            assertTrue(meta.containsKey("nothing"));
            assertEquals(null, meta.get("nothing"));
            assertFalse(meta.containsKey("state_dict"));
            assertFalse(meta.containsKey("hyper_parameters"));
            assertFalse(meta.containsKey("optimizer_states"));
        }
    }

    @Test
    void viewsKeepTheirOffsetsStridesAndSharedStorages() throws IOException {
        try (TorchCheckpoint ck = TorchCheckpoint.open(fixture("views.pt"))) {
            Map<String, TorchCheckpoint.Entry> t = ck.tensors();
            assertArrayEquals(new long[] {1, 6}, t.get("t").stride());
            assertFalse(t.get("t").isContiguous());
            assertTrue(t.get("base").isContiguous());
            assertEquals(t.get("base").storageKey(), t.get("t").storageKey());
            assertEquals(8, t.get("slice").storageOffset());
            assertEquals(12, t.get("row").storageOffset());
            assertTrue(t.get("row").isContiguous());
            assertArrayEquals(new long[] {6}, t.get("col").stride());
            assertArrayEquals(new long[] {6, 2}, t.get("every_other").stride());
            assertEquals(t.get("a").storageKey(), t.get("b").storageKey());
            assertNotEquals(t.get("a").storageKey(), t.get("base").storageKey());
            assertEquals(6, t.get("b").storageOffset());
            assertArrayEquals(new long[] {0, 1}, t.get("expanded").stride());
            assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3}, ck.readFloats("expanded"));
            assertArrayEquals(new float[] {1, 7, 13, 19}, ck.readFloats("col"));
            assertArrayEquals(new float[] {8, 9, 10, 14, 15, 16}, ck.readFloats("slice"));
            assertArrayEquals(new float[] {0, 6, 12, 18, 1, 7, 13, 19, 2, 8, 14, 20, 3, 9, 15, 21, 4, 10, 16, 22, 5, 11, 17, 23}, ck.readFloats("t"));
            assertEquals("F16", t.get("half_strided").dtype());
            assertEquals("F64", t.get("permuted").dtype());
        }
    }

    @Test
    void legacyFormatIsRead() throws IOException {
        try (TorchCheckpoint ck = TorchCheckpoint.open(fixture("legacy.pt"))) {
            assertEquals("legacy", ck.format());
            assertEquals(List.of("w", "w_t", "h", "count", "mask"), new ArrayList<>(ck.tensors().keySet()));
            assertArrayEquals(new float[] {-2.5f, 0.5f, -1.5f, 1.5f, -0.5f, 2.5f}, ck.readFloats("w_t"));
            assertArrayEquals(new float[] {0.5f, -1, 65504}, ck.readFloats("h"));
        }
    }

    @Test
    void nestedDictsAreFlattenedWithDots() throws IOException {
        try (TorchCheckpoint ck = TorchCheckpoint.open(fixture("nested.pt"))) {
            assertEquals(List.of("model.conv.weight", "model.conv.bias", "ema.conv.weight", "scale"), new ArrayList<>(ck.tensors().keySet()));
            assertArrayEquals(new int[] {3}, ck.tensors().get("scale").shape());   // an nn.Parameter
            assertEquals(5L, ck.metadata().get("step"));
            assertEquals("moe", ck.metadata().get("name"));
        }
    }

    @Test
    void readGivesTensorsOfTheEntryShape() throws IOException {
        try (Scope s = Scope.open(); TorchCheckpoint ck = TorchCheckpoint.open(fixture("views.pt"))) {
            Tensor t = ck.read("every_other", Device.CPU);
            assertArrayEquals(new int[] {4, 3}, t.dims());
            assertArrayEquals(new float[] {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22}, t.toFloatArray());
            Map<String, Tensor> all = ck.readAll(Device.CPU);
            assertEquals(ck.tensors().keySet(), all.keySet());
            assertArrayEquals(new int[] {4, 2, 3}, all.get("permuted").dims());
            assertArrayEquals(ck.readFloats("permuted"), all.get("permuted").toFloatArray());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ck.read("nope"));
            assertTrue(e.getMessage().contains("no tensor named \"nope\""), e.getMessage());
        }
    }
}
