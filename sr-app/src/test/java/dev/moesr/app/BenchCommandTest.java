package dev.moesr.app;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `sr-app bench` in process: the JSON it prints, and the errors for bad options. */
class BenchCommandTest {

    /** Runs the CLI with these arguments; returns exit code, stdout and stderr. */
    private static String[] run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = new CommandLine(new Main()).execute(args);
            return new String[] {Integer.toString(code), o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": ([0-9.]+)").matcher(json);
        assertTrue(m.find(), key + " missing in " + json);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void matmulPrintsOneJsonObject() {
        String[] r = run("bench", "matmul", "--size", "48", "-n", "40", "--reps", "3", "--warmup", "1", "--warmup-seconds", "0", "--json");
        assertEquals("0", r[0], r[2]);
        String json = r[1].trim();
        assertTrue(json.startsWith("{\"op\": \"matmul\", \"device\": \"cpu\"") && json.endsWith("}") && !json.contains("\n"), json);
        assertTrue(json.contains("\"m\": 48, \"n\": 40, \"k\": 48"), json);
        double ms = number(json, "ms"), gflops = number(json, "gflops");
        assertTrue(ms > 0 && number(json, "threads") >= 1 && number(json, "reps") == 3, json);
        // ms is printed with 4 decimals: gflops must fit the flop count over any time that rounds to it
        double flops = 2.0 * 48 * 40 * 48, slowest = flops / ((ms + 5e-5) * 1e6), fastest = flops / (Math.max(ms - 5e-5, 1e-9) * 1e6);
        // (gflops itself is printed with 4 decimals too)
        assertTrue(gflops >= slowest * (1 - 1e-4) - 5e-5 && gflops <= fastest * (1 + 1e-4) + 5e-5,
                "gflops " + gflops + " is not the flop count over the median time " + ms + " ms (" + slowest + " .. " + fastest + ")");
    }

    @Test
    void groupNormTimesFusedAndComposedInOneRunAndPrintsTheirRatio() {
        String[] r = run("bench", "groupnorm", "--channels", "8", "--size", "6", "--groups", "2", "--reps", "3", "--warmup", "1",
                "--warmup-seconds", "0", "--json");
        assertEquals("0", r[0], r[2]);
        String[] lines = r[1].trim().split("\n");
        assertEquals(3, lines.length, r[1]);
        assertTrue(lines[0].contains("\"op\": \"groupnorm+silu fused\"") && lines[1].contains("\"op\": \"groupnorm+silu composed\""), r[1]);
        double ratio = number(lines[2], "composed_over_fused");
        assertEquals(number(lines[1], "ms") / number(lines[0], "ms"), ratio, 0.02 * ratio + 1e-3, r[1]);
        String[] bad = run("bench", "groupnorm", "--channels", "6", "--groups", "4");
        assertEquals("2", bad[0]);
        assertTrue(bad[2].contains("divisible"), bad[2]);
    }

    @Test
    void conv2dTakesItsShapeFromOptions() {
        String[] r = run("bench", "conv2d", "--in-channels", "4", "--out-channels", "6", "--height", "9", "--width", "7",
                "--stride", "2", "--groups", "2", "--reps", "2", "--warmup", "0", "--warmup-seconds", "0", "--json");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("\"output\": \"[1, 6, 5, 4]\"") && r[1].contains("\"weight\": \"[6, 2, 3, 3]\""), r[1]);
    }

    @Test
    void badOptionsSayWhatIsWrong() {
        String[] small = run("bench", "conv2d", "--height", "2", "--width", "2", "--kernel", "5", "--padding", "0");
        assertEquals("2", small[0]);
        assertTrue(small[2].contains("too small"), small[2]);
        String[] device = run("bench", "matmul", "--device", "tpu");
        assertEquals("2", device[0]);
        assertTrue(device[2].contains("unknown device 'tpu'"), device[2]);
        String[] none = run("bench");
        assertTrue(!none[0].equals("0") && none[2].contains("matmul, conv2d, groupnorm, memory, unet or infer"), none[2]);
    }
}
