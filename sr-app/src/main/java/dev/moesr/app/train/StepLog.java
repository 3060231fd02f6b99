package dev.moesr.app.train;

import dev.moesr.app.cli.Json;
import dev.moesr.tensor.backend.Backend;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** One line per optimiser step: text, or with --json one JSON object per line. */
public final class StepLog {
    private final PrintWriter out;
    private final boolean json, quiet;
    private final Backend backend;
    private long lastNanos = System.nanoTime();

    public StepLog(PrintWriter out, boolean json, boolean quiet, Backend backend) {
        this.out = out;
        this.json = json;
        this.quiet = quiet;
        this.backend = backend;
    }

    /** Logs a step; {@code values} are extra fields (losses); images is the number of HR crops the step used. */
    public void step(long step, long steps, double loss, double lr, int images, Map<String, Object> values) {
        long now = System.nanoTime();
        double seconds = Math.max(1e-9, (now - lastNanos) / 1e9);
        lastNanos = now;
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("step", step);
        o.put("steps", steps);
        o.put("loss", loss);
        o.put("lr", lr);
        o.putAll(values);
        o.put("images_per_second", images / seconds);
        o.put("bytes_in_use", backend.bytesInUse());
        o.put("peak_bytes", backend.peakBytes());
        if (json) {
            out.println(oneLine(o));
        } else if (!quiet) {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "step %d/%d loss %.5f lr %.3g", step, steps, loss, lr));
            values.forEach((k, v) -> sb.append(' ').append(k).append(' ').append(v instanceof Double d ? String.format(Locale.ROOT, "%.5f", d) : v));
            sb.append(String.format(Locale.ROOT, " %.2f img/s %.1f MiB", images / seconds, backend.bytesInUse() / 1048576.0));
            out.println(sb);
        }
        out.flush();
    }

    /** Json writes indented objects; strings escape their newlines, so dropping line breaks keeps it valid. */
    public static String oneLine(Map<String, Object> o) {
        return Json.write(o).replaceAll("\n\\s*", "");
    }

    /** A line that is not a step (a checkpoint written, validation); in JSON mode an object with an "event". */
    public void event(String event, Map<String, Object> values) {
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("event", event);
            o.putAll(values);
            out.println(oneLine(o));
        } else if (!quiet) {
            out.println(event + " " + values);
        }
        out.flush();
    }
}
