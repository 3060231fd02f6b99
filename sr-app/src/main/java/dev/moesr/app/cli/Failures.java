package dev.moesr.app.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/** How commands report a failure: one line naming the command and the problem; the stack trace only with --verbose. */
public final class Failures {
    private Failures() {}

    /** Exit code of a command that failed on its input or its files. */
    public static final int FAILED = 1;

    public static int report(PrintWriter err, String command, Throwable e, boolean verbose) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) message = e.getClass().getSimpleName();
        if (e instanceof OutOfMemoryError) {
            message = "out of memory (raise -Xmx, or use smaller images)";
        } else if (!(e instanceof IOException || e instanceof UncheckedIOException || e instanceof IllegalArgumentException
                || e instanceof dev.moesr.nn.io.NonFiniteException)) {
            message = e.getClass().getSimpleName() + ": " + message;    // not an input problem: say what kind of failure it was
        }
        err.println("sr-app " + command + ": " + message.replace('\n', ' '));
        if (verbose) e.printStackTrace(err);
        err.flush();
        return FAILED;
    }
}
