package dev.moesr.tensor.cpu;

import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Bit-identity of the Java streams with native/philox.cuh, the header the CUDA kernels are built
 * from. The header's functions are __host__ __device__: a host program built from it (with nvcc
 * when it is on the PATH, else with a C++ compiler) prints its bits, and they must equal Java's.
 * The device path differs only in using the _rn intrinsics, which round the same way; with a
 * GPU present, {@link #deviceKernelsMatchTheHost} runs the kernels of native/random.cu too.
 * Skipped, saying why, when no compiler (or no GPU) is found.
 */
class PhiloxNativeParityTest {
    /** The tensor-core module: the working directory under Maven, a subfolder of it when run from the project root (GPU machine). */
    private static final Path MODULE = Files.isDirectory(Path.of("src", "test", "native")) ? Path.of("") : Path.of("tensor-core");
    private static final Path HEADER_DIR = MODULE.resolve("..").resolve("native").toAbsolutePath().normalize();
    private static final Path DUMP_SOURCE = MODULE.resolve(Path.of("src", "test", "native", "philox_dump.cpp")).toAbsolutePath();
    private static final Path DEVICE_CHECK_SOURCE = MODULE.resolve(Path.of("src", "test", "native", "philox_device_check.cu")).toAbsolutePath();

    @TempDir static Path work;
    private static Path dump;

    @BeforeAll
    static void build() throws Exception {
        Assumptions.assumeTrue(Files.exists(HEADER_DIR.resolve("philox.cuh")), "native/philox.cuh not found at " + HEADER_DIR + "; run from the tensor-core module or the project root");
        dump = work.resolve("philox_dump");
        List<List<String>> compilers = List.of(
                List.of("nvcc", "-O2", "-x", "cu", "-I" + HEADER_DIR, "-o", dump.toString(), DUMP_SOURCE.toString()),
                List.of("g++", "-O2", "-I" + HEADER_DIR, "-o", dump.toString(), DUMP_SOURCE.toString()),
                List.of("c++", "-O2", "-I" + HEADER_DIR, "-o", dump.toString(), DUMP_SOURCE.toString()));
        StringBuilder tried = new StringBuilder();
        for (List<String> cmd : compilers) {
            if (!onPath(cmd.get(0))) {
                tried.append(cmd.get(0)).append(" not on the PATH; ");
                continue;
            }
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) {
                System.out.println("PhiloxNativeParityTest: philox.cuh built on the host with " + cmd.get(0));
                return;
            }
            throw new AssertionError(cmd.get(0) + " failed to build " + DUMP_SOURCE + " with native/philox.cuh:\n" + log);
        }
        Assumptions.abort("no nvcc or C++ compiler to build native/philox.cuh on the host (" + tried + ")");
    }

    private static boolean onPath(String exe) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, exe))) return true;
        }
        return false;
    }

    private static List<String> run(String commands) throws IOException, InterruptedException {
        // the commands go in through a file: writing them to a pipe while the output pipe fills would deadlock
        Path input = Files.writeString(work.resolve("commands.txt"), commands, StandardCharsets.US_ASCII);
        Process p = new ProcessBuilder(dump.toString()).redirectInput(input.toFile()).redirectErrorStream(true).start();
        List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).lines().toList();
        p.waitFor(60, TimeUnit.SECONDS);
        assertEquals(0, p.exitValue(), "philox_dump failed: " + lines);
        return lines;
    }

    private static void checkStream(boolean normal, long seed, long counter, int n) throws Exception {
        List<String> lines = run((normal ? "normal " : "uniform ") + Long.toHexString(seed) + " " + Long.toHexString(counter) + " " + n + "\n");
        Philox rng = new Philox(seed, counter);
        float[] v = (normal ? Tensor.randn(rng, n) : Tensor.rand(rng, n)).toFloatArray();
        assertEquals(n, lines.size());
        for (int i = 0; i < n; i++) {
            int nativeBits = Integer.parseUnsignedInt(lines.get(i), 16);
            if (nativeBits != Float.floatToRawIntBits(v[i])) {
                throw new AssertionError((normal ? "normal" : "uniform") + " stream (seed " + seed + ", counter " + counter + ") element " + i
                        + ": Java " + v[i] + ", philox.cuh " + Float.intBitsToFloat(nativeBits));
            }
        }
    }

    @Test
    void uniformStreamsAreBitIdentical() throws Exception {
        checkStream(false, 0, 0, 4);
        checkStream(false, 0x0123456789ABCDEFL, 0xFFFFFFFEL, 1001);
        checkStream(false, -1L, -3L, 64);   // the counter wraps around 2^64
    }

    @Test
    void normalStreamsAreBitIdentical() throws Exception {
        checkStream(true, 0, 0, 4);
        checkStream(true, 42, 7, 200_003);
        checkStream(true, 0x9E3779B97F4A7C15L, 0xFFFFFFFFL, 1001);
    }

    @Test
    void logAndSinCosAreBitIdentical() throws Exception {
        List<Double> xs = new ArrayList<>(List.of(1.0, 0.5, 0x1p-24, 1 - 0x1p-24, 0.25, 0.75, Double.MIN_VALUE, Double.MAX_VALUE, 1e-300, 3.7));
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < 20_000; i++) xs.add(i % 2 == 0 ? r.nextInt(1 << 24) * 0x1p-24 + 0x1p-25 : Math.exp(r.nextDouble(-700, 700)));
        StringBuilder cmd = new StringBuilder();
        for (double x : xs) cmd.append("math ").append(Long.toHexString(Double.doubleToRawLongBits(x))).append('\n');
        List<String> lines = run(cmd.toString());
        assertEquals(xs.size(), lines.size());
        for (int i = 0; i < xs.size(); i++) {
            double x = xs.get(i);
            String[] f = lines.get(i).split(" ");
            assertEquals(Double.doubleToRawLongBits(PortableMath.log(x)), Long.parseUnsignedLong(f[0], 16), "log(" + x + ")");
            if (Math.abs(x) < 0x1p49) {
                assertEquals(Double.doubleToRawLongBits(PortableMath.sin2pi(x)), Long.parseUnsignedLong(f[1], 16), "sin(2 pi " + x + ")");
                assertEquals(Double.doubleToRawLongBits(PortableMath.cos2pi(x)), Long.parseUnsignedLong(f[2], 16), "cos(2 pi " + x + ")");
            }
        }
    }

    /** The kernels of native/random.cu on a GPU against the host path, every value of a million-element draw. */
    @Test
    @Tag("gpu")
    void deviceKernelsMatchTheHost() throws Exception {
        Assumptions.assumeTrue(onPath("nvcc"), "nvcc not on the PATH: the device kernels cannot be built here");
        Assumptions.assumeTrue(onPath("nvidia-smi") && new ProcessBuilder("nvidia-smi", "-L").start().waitFor() == 0,
                "no CUDA device (nvidia-smi -L failed or is missing): device parity not checked");
        Path exe = work.resolve("philox_device_check");
        Process build = new ProcessBuilder("nvcc", "-O2", "-I" + HEADER_DIR, "-o", exe.toString(), DEVICE_CHECK_SOURCE.toString())
                .redirectErrorStream(true).start();
        String buildLog = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, build.waitFor(), "nvcc failed on philox_device_check.cu:\n" + buildLog);
        Process p = new ProcessBuilder(exe.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        System.out.println("PhiloxNativeParityTest: " + out.trim());
    }
}
