package dev.moesr.nn.io;

import dev.moesr.nn.Init;
import dev.moesr.nn.layers.Linear;
import dev.moesr.nn.io.torch.TorchCheckpoint;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** TensorSource over both readers, the streaming SafeTensorsWriter, and initialisation deferred for loading. */
@SuppressWarnings("try")   // scopes in tests only bound a region
class TensorSourceTest {
    @TempDir
    Path dir;

    private static Path torchFixture(String name) throws URISyntaxException {
        return Path.of(TensorSourceTest.class.getResource("/torch/" + name).toURI());
    }

    @Test
    void opensEitherFormatByItsFirstBytesWhateverTheName() throws Exception {
        try (Scope s = Scope.open()) {
            // a PyTorch checkpoint under a safetensors name, and a safetensors file under a .ckpt name
            Path ckpt = dir.resolve("module.safetensors");
            Files.copy(torchFixture("module.pt"), ckpt);
            Path st = dir.resolve("module.ckpt");
            Files.copy(torchFixture("module.expected.safetensors"), st);
            try (TensorSource a = TensorSource.open(ckpt); TensorSource b = TensorSource.open(st)) {
                assertInstanceOf(TorchCheckpoint.class, a);
                assertInstanceOf(SafeTensorsFile.class, b);
                assertEquals("PyTorch checkpoint", a.kind());
                assertEquals("safetensors", b.kind());
                assertEquals(new ArrayList<>(b.names()), new ArrayList<>(a.names()));
                for (String n : a.names()) {
                    assertArrayEquals(b.shape(n), a.shape(n), n);
                    assertArrayEquals(b.readFloats(n), a.readFloats(n), n);
                    assertArrayEquals(b.read(n, Device.CPU).toFloatArray(), a.readFloats(n), n);
                }
                assertThrows(IllegalArgumentException.class, () -> a.shape("nope"));
                assertThrows(IllegalArgumentException.class, () -> b.dtype("nope"));
            }
            Path lightning = dir.resolve("lightning.ckpt");
            Files.copy(torchFixture("lightning.pt"), lightning);
            try (TensorSource l = TensorSource.open(lightning)) {
                assertFalse(l.names().isEmpty(), "a Lightning checkpoint's state_dict");
            }
            Path junk = dir.resolve("junk.bin");
            Files.writeString(junk, "hello, world");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TensorSource.open(junk));
            assertTrue(e.getMessage().contains("PyTorch checkpoint"), e.getMessage());
            Path text = dir.resolve("notes.txt");
            Files.writeString(text, "hello, world");
            e = assertThrows(IllegalArgumentException.class, () -> TensorSource.open(text));
            assertTrue(e.getMessage().contains("neither a safetensors file nor a PyTorch checkpoint"), e.getMessage());
        }
    }

    @Test
    void theStreamingWriterWritesWhatSafeTensorsWriteDoes() throws IOException {
        try (Scope s = Scope.open()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("a.weight", Tensor.randn(new Philox(1), 3, 4));
            tensors.put("a.bias", Tensor.of(new float[] {1.5f, -2f, 0f}, 3));
            tensors.put("empty", Tensor.zeros(0, 2));
            Map<String, String> meta = Map.of("k", "v");
            for (boolean half : new boolean[] {false, true}) {
                Path whole = dir.resolve("whole" + half + ".safetensors"), streamed = dir.resolve("streamed" + half + ".safetensors");
                SafeTensors.write(whole, tensors, meta, half);
                Map<String, int[]> shapes = new LinkedHashMap<>();
                tensors.forEach((k, v) -> shapes.put(k, v.dims()));
                try (SafeTensorsWriter w = SafeTensorsWriter.open(streamed, shapes, meta, half)) {
                    for (var e : tensors.entrySet()) {
                        assertEquals(e.getKey(), w.nextName());
                        w.write(e.getKey(), e.getValue().toFloatArray());
                    }
                    assertNull(w.nextName());
                    w.commit();
                }
                assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(streamed), "half " + half);
            }
        }
    }

    @Test
    void theStreamingWriterRefusesMistakesAndLeavesNothingBehind() throws IOException {
        Path p = dir.resolve("out.safetensors");
        Files.writeString(p, "the old file");
        Map<String, int[]> shapes = new LinkedHashMap<>();
        shapes.put("x", new int[] {2});
        shapes.put("y", new int[] {3});
        try (SafeTensorsWriter w = SafeTensorsWriter.open(p, shapes, null, false)) {
            assertThrows(IllegalStateException.class, () -> w.write("y", new float[3]));   // out of order
            assertThrows(IllegalArgumentException.class, () -> w.write("x", new float[5]));   // wrong size
            w.write("x", new float[2]);
            IllegalStateException e = assertThrows(IllegalStateException.class, w::commit);   // y never written
            assertTrue(e.getMessage().contains("'y'"), e.getMessage());
        }
        assertEquals("the old file", Files.readString(p));
        try (SafeTensorsWriter w = SafeTensorsWriter.open(p, shapes, null, true)) {
            assertThrows(IllegalArgumentException.class, () -> w.write("x", new float[] {1f, 1e6f}));   // beyond F16
        }
        assertEquals("the old file", Files.readString(p));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("out.safetensors"), files.map(f -> f.getFileName().toString()).toList(), "no temporary file is left");
        }
        assertThrows(IOException.class, () -> SafeTensorsWriter.open(dir.resolve("no/such/folder/x"), shapes, null, false));
    }

    @Test
    void deferredInitialisationAllocatesWithoutDrawingAndAdvancesTheStreamAlike() {
        try (Scope s = Scope.open()) {
            Philox drawn = new Philox(5), deferred = new Philox(5);
            Linear a = new Linear(7, 9, drawn);
            Linear b;
            assertFalse(Init.isDeferred());
            try (Init.Deferral d = Init.deferred(Device.CPU)) {
                assertTrue(Init.isDeferred());
                b = new Linear(7, 9, deferred);
            }
            assertFalse(Init.isDeferred());
            assertEquals(drawn.counter(), deferred.counter(), "the stream moves on as if the weights were drawn");
            assertArrayEquals(a.weight().dims(), b.weight().dims());
            assertEquals(Device.CPU, b.weight().tensor().device());
            // what comes next from the stream is the same either way
            assertArrayEquals(Tensor.rand(drawn, 4).toFloatArray(), Tensor.rand(deferred, 4).toFloatArray());
            // and the module loads like any other
            b.loadStateDict(a.stateDict(), true);
            assertArrayEquals(a.weight().tensor().toFloatArray(), b.weight().tensor().toFloatArray());
        }
    }
}
