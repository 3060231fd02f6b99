package dev.moesr.cudakernels;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fatbin that nvcc built from native/*.cu (no GPU needed): it is on the class path (so in
 * the jar), holds SASS for sm_80 and sm_90 and PTX for compute_90, and contains every kernel
 * that CudaBackend launches.
 */
class FatbinTest {
    private static final Path BACKEND_SOURCE = Path.of("src/main/java/dev/moesr/cudakernels/CudaBackend.java");
    private static final Path NATIVE = Path.of("../native");

    /** The fatbin, or a skip when the build was told to leave nvcc out; missing otherwise is a failure. */
    private static byte[] fatbin() {
        byte[] b = Fatbin.loadResource();
        if (b == null) {
            assumeFalse(Boolean.getBoolean("moesr.nvcc.skip"), "kernels.fatbin was not built: this build ran with -Dnvcc.skip=true");
        }
        assertNotNull(b, "kernels.fatbin is missing from target/classes although nvcc was not skipped");
        return b;
    }

    @Test
    void holdsSassForSm80AndSm90AndPtxForCompute90() {
        List<Fatbin.Entry> entries = Fatbin.parse(fatbin());
        TreeSet<String> found = new TreeSet<>();
        for (Fatbin.Entry e : entries) found.add(e.kind() + "_" + e.sm());
        assertTrue(found.containsAll(List.of("SASS_80", "SASS_90", "PTX_90")), "fatbin entries: " + entries);
        for (Fatbin.Entry e : entries) assertTrue(e.payloadBytes() > 0, "empty entry " + e);
    }

    @Test
    void sassEntriesAreElfAndPtxEntriesAreText() {
        byte[] b = fatbin();
        for (Fatbin.Entry e : Fatbin.parse(b)) {
            String head = new String(b, (int) e.payloadOffset(), (int) Math.min(4096, e.payloadBytes()), StandardCharsets.ISO_8859_1);
            if (e.kind() == Fatbin.Kind.SASS) assertTrue(head.startsWith("\u007fELF"), "SASS entry without an ELF header: " + e);
            if (e.kind() == Fatbin.Kind.PTX) assertTrue(head.contains(".target sm_" + e.sm()), "PTX entry without its .target line: " + e);
        }
    }

    @Test
    void containsEveryOwnKernelTheBackendLaunches() throws IOException {
        List<String> kernels = launchedKernels("moesr_");
        assertTrue(kernels.size() >= 20, "expected the backend to launch our kernels, found " + kernels);
        assertKernelsInEveryEntry(kernels);
    }

    @Test
    void containsTheRandomKernelsOnceRandomCuIsPresent() throws IOException {
        assumeTrue(Files.exists(NATIVE.resolve("random.cu")), "native/random.cu (the Philox kernels) is not in this tree yet");
        List<String> kernels = launchedKernels("philox_");
        assertEquals(List.of("philox_normal", "philox_uniform"), kernels);
        assertKernelsInEveryEntry(kernels);
    }

    private void assertKernelsInEveryEntry(List<String> kernels) {
        byte[] b = fatbin();
        for (Fatbin.Entry e : Fatbin.parse(b)) {
            String payload = new String(b, (int) e.payloadOffset(), (int) e.payloadBytes(), StandardCharsets.ISO_8859_1);
            List<String> missing = new ArrayList<>();
            for (String k : kernels) {
                boolean present = e.kind() == Fatbin.Kind.PTX ? payload.contains(".entry " + k + "(") : payload.contains("\0" + k + "\0");
                if (!present) missing.add(k);
            }
            assertTrue(missing.isEmpty(), "kernels missing from " + e + ": " + missing);
        }
    }

    /** Kernel names in the backend's launch calls (string literals with the prefix). */
    private static List<String> launchedKernels(String prefix) throws IOException {
        String src = Files.readString(BACKEND_SOURCE);
        Matcher m = Pattern.compile("\"(" + prefix + "[a-z0-9_]+)\"").matcher(src);
        TreeSet<String> names = new TreeSet<>();
        while (m.find()) names.add(m.group(1));
        return new ArrayList<>(names);
    }

    @Test
    void rejectsBytesThatAreNotAFatbin() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Fatbin.parse(new byte[64]));
        assertTrue(e.getMessage().contains("not a CUDA fatbin"), e.getMessage());
        byte[] truncated = Arrays.copyOf(fatbin(), 100);
        assertThrows(IllegalArgumentException.class, () -> Fatbin.parse(truncated));
    }
}
