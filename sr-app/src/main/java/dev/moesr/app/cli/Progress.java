package dev.moesr.app.cli;

import java.io.PrintWriter;

/**
 * A one-line progress display on standard error ("[3/20] name"), redrawn in place. Shown only
 * when enabled, which commands do when a person watches (a terminal) and --quiet is not given,
 * so logs and pipes stay clean.
 */
public final class Progress {
    private final PrintWriter out;
    private final boolean enabled;
    private final int total;
    private int lastLength;

    public Progress(PrintWriter out, boolean enabled, int total) {
        this.out = out;
        this.enabled = enabled;
        this.total = total;
    }

    /** Whether a person is probably watching: the JVM has a console (standard input and output are a terminal). */
    public static boolean interactive() {
        return System.console() != null;
    }

    public void step(int done, String what) {
        if (!enabled) return;
        String line = "[" + done + "/" + total + "] " + what;
        out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        out.flush();
        lastLength = line.length();
    }

    /** Clears the line, so that the result starts on a clean one. */
    public void finish() {
        if (!enabled || lastLength == 0) return;
        out.print("\r" + " ".repeat(lastLength) + "\r");
        out.flush();
        lastLength = 0;
    }
}
