package dev.moesr.nn.io.torch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static dev.moesr.nn.io.torch.TorchCheckpointTest.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile and broken checkpoints (nn/src/test/resources/torch/make_fixtures.py, and a few made
 * here): each is refused with one IllegalArgumentException that names the problem, quickly, and
 * nothing from the file ever runs.
 */
@Timeout(60)
class TorchCheckpointHostileTest {
    @TempDir Path dir;

    private static IllegalArgumentException refused(Path p) {
        return assertThrows(IllegalArgumentException.class, () -> {
            try (TorchCheckpoint ck = TorchCheckpoint.open(p)) {
                for (String name : ck.tensors().keySet()) ck.readFloats(name);
            }
        });
    }

    private static void assertMentions(IllegalArgumentException e, String... parts) {
        for (String part : parts) assertTrue(e.getMessage().contains(part), "\"" + part + "\" is not in: " + e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
            "hostile_os_system.pt, os.system, os-system",
            "hostile_posix_system.pt, posix.system, posix-system",
            "hostile_builtins_eval.pt, builtins.eval, eval",
            "hostile_subprocess.pt, subprocess.Popen, subprocess",
            "hostile_legacy_os_system.pt, os.system, legacy",
            "hostile_load_from_bytes.pt, torch.storage._load_from_bytes, load-from-bytes",
    })
    void aGlobalOutsideTheAllowListIsRefusedByNameAndNeverRuns(String file, String global, String marker) throws IOException {
        Path touched = Path.of("/tmp/moesr-torch-pwned-" + marker);
        Files.deleteIfExists(touched);
        IllegalArgumentException e = refused(fixture(file));
        assertMentions(e, "global " + global + " is not allowed", "never runs code", file);
        assertFalse(Files.exists(touched), "the payload ran: " + touched + " exists");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "truncated_zip.pt      | not a readable zip archive",
            "truncated_zip.pt      | truncated",
            "truncated_pickle.pt   | truncated",
            "truncated_legacy.pt   | truncated",
            "oob_view.pt           | reaches element 4 of storage \"0\", which holds only 4 elements: out of bounds",
            "oob_storage.pt        | needs 400 bytes, but its entry archive/data/0 holds only 16: out of bounds",
            "negative_stride.pt    | stride is negative (-1)",
            "negative_size.pt      | size is negative (-2)",
            "big_endian.pt         | byteorder is \"big\"",
            "deep_marks.pt         | more than 1000 MARKs",
            "deep_lists.pt         | nests containers more than 1000 levels deep",
            "deep_dicts.pt         | nests containers more than 1000 levels deep",
            "memo_missing.pt       | memo entry 5, which was never put",
            "zip_bomb.pt           | more than this reader's limit of 67108864",
            "zip_bomb_declared.pt  | more than deflate can produce (a zip bomb?)",
    })
    void brokenAndHostileFilesAreRefusedWithTheirProblem(String file, String problem) {
        assertMentions(refused(fixture(file)), "invalid PyTorch checkpoint", problem);
    }

    // ---- made here: pickles in a zip with torch's layout ---------------------------------------

    private Path torchZip(byte[] pkl) throws IOException {
        Path p = dir.resolve("made.pt");
        writeStoredZip(p, Map.of("made/data.pkl", pkl));
        return p;
    }

    private static byte[] pickle(String... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {(byte) 0x80, 2});
        for (String s : parts) b.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
        b.write('.');
        return b.toByteArray();
    }

    private static String str(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        return "X" + new String(new byte[] {(byte) u.length, 0, 0, 0}, StandardCharsets.ISO_8859_1) + s;
    }

    @Test
    void aStackWithoutEndIsCapped() throws IOException {
        IllegalArgumentException e = refused(torchZip(pickle("N".repeat(Unpickler.MAX_STACK + 1))));
        assertMentions(e, "stack grows beyond " + Unpickler.MAX_STACK);
    }

    @Test
    void aListAsDictKeyIsRefused() throws IOException {
        assertMentions(refused(torchZip(pickle("}", "]", "N", "s"))), "a dict key or set item is a list");
    }

    @Test
    void aTupleTowerAsKeyIsRefusedAtOnceNotHashed() throws IOException {
        // t = (t, t) sixty times: 2^60 leaves; hashing it naively would never end.
        String tower = ")" + "2\u0086".repeat(60);
        assertMentions(refused(torchZip(pickle("}", tower, "N", "s"))), "a dict key or set item is a tuple of 2");
    }

    @Test
    void aDictContainingItselfEndsWithoutTensors() throws IOException {
        // d = {}; d["self"] = d: a cycle through the memo.
        Path p = torchZip(pickle("}q\u0000", str("self"), "h\u0000", "s"));
        try (TorchCheckpoint ck = TorchCheckpoint.open(p)) {
            assertTrue(ck.tensors().isEmpty());
        }
    }

    @Test
    void noneValuesAndSetItemAreMetadata() throws IOException {
        Path p = torchZip(pickle("}", str("k"), "N", "s", str("n"), "J\u0001\u0000\u0000\u0080", "s"));
        try (TorchCheckpoint ck = TorchCheckpoint.open(p)) {
            assertTrue(ck.metadata().containsKey("k"));
            assertEquals(null, ck.metadata().get("k"));
            assertEquals(-2147483647L, ck.metadata().get("n"));
        }
    }

    @Test
    void textOpcodesAndInstancesAreRefused() throws IOException {
        assertMentions(refused(torchZip(pickle("(ios\nsystem\n"))), "opcode INST (0x69) is not supported");
        assertMentions(refused(torchZip(pickle("I1\n"))), "opcode INT (0x49) is not supported");
    }

    @Test
    void reduceOfAStorageTypeOrANonGlobalIsRefused() throws IOException {
        assertMentions(refused(torchZip(pickle("ctorch\nFloatStorage\n)R"))), "torch.FloatStorage cannot be called");
        assertMentions(refused(torchZip(pickle(str("os"), ")R"))), "REDUCE calls a str \"os\", which is not an allowed global");
    }

    @Test
    void aTopLevelThatIsNotADictIsRefused() throws IOException {
        assertMentions(refused(torchZip(pickle("]"))), "it holds a list of 0, not a dict of tensors");
    }

    @Test
    void aPersistentIdThatIsNotAStorageIsRefused() throws IOException {
        assertMentions(refused(torchZip(pickle(str("x"), "Q"))), "a persistent id is a str \"x\"");
        assertMentions(refused(torchZip(pickle("(", str("storage"), "cos\nsystem\n", str("0"), str("cpu"), "K\u0001tQ"))),
                "global os.system is not allowed");
    }

    @Test
    void filesThatAreNotCheckpointsAreRefused() throws IOException {
        Path empty = Files.write(dir.resolve("empty.pt"), new byte[0]);
        assertMentions(refused(empty), "the file is empty");
        Path text = Files.writeString(dir.resolve("text.pt"), "hello, world");
        assertMentions(refused(text), "neither a zip archive");
        Path notTorch = Files.write(dir.resolve("pickle.pt"), pickle("}"));
        assertMentions(refused(notTorch), "not with the PyTorch magic number");
    }

    /**
     * A seeded fuzz: module.pt's pickle with random bytes changed, or cut short, in a zip with its
     * storages; and legacy.pt with random bytes changed. Every variant must open and read, or be
     * refused with an IllegalArgumentException: no other exception, no hang.
     */
    @Test
    void mutatedCheckpointsAreReadOrRefusedNeverCrash() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(fixture("module.pt").toFile())) {
            for (ZipEntry e : Collections.list(z.entries())) entries.put(e.getName(), z.getInputStream(e).readAllBytes());
        }
        byte[] pkl = entries.get("module/data.pkl");
        byte[] legacy = Files.readAllBytes(fixture("legacy.pt"));
        Random random = new Random(12);
        int refusedCount = 0;
        for (int trial = 0; trial < 600; trial++) {
            boolean useLegacy = trial % 3 == 2;
            byte[] bytes = (useLegacy ? legacy : pkl).clone();
            if (!useLegacy && trial % 7 == 0) bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
            else for (int k = 1 + random.nextInt(4); k > 0; k--) bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
            Path p = dir.resolve("fuzz.pt");
            if (useLegacy) {
                Files.write(p, bytes);
            } else {
                Map<String, byte[]> mutated = new LinkedHashMap<>(entries);
                mutated.put("module/data.pkl", bytes);
                writeStoredZip(p, mutated);
            }
            try (TorchCheckpoint ck = TorchCheckpoint.open(p)) {
                for (String name : ck.tensors().keySet()) ck.readFloats(name);
            } catch (IllegalArgumentException e) {
                refusedCount++;
                assertTrue(e.getMessage().startsWith("invalid PyTorch checkpoint") || e.getMessage().contains("ends early"), e.getMessage());
            }
        }
        assertTrue(refusedCount > 100, "only " + refusedCount + " of 600 mutations were refused");
    }

    private static void writeStoredZip(Path p, Map<String, byte[]> entries) throws IOException {
        try (OutputStream out = Files.newOutputStream(p); ZipOutputStream z = new ZipOutputStream(out)) {
            for (var en : entries.entrySet()) {
                ZipEntry e = new ZipEntry(en.getKey());
                e.setMethod(ZipEntry.STORED);
                e.setSize(en.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(en.getValue());
                e.setCrc(crc.getValue());
                z.putNextEntry(e);
                z.write(en.getValue());
                z.closeEntry();
            }
        }
    }

    @Test
    void checksTheLimitsItAdvertises() {
        assertEquals(64L << 20, TorchCheckpoint.MAX_PICKLE_BYTES);
    }
}
