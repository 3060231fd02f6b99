package dev.moesr.app;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the application in-process, as {@code java -jar sr-app.jar ARGS} would, capturing both streams. */
final class CommandRunner {
    record Result(int code, String out, String err) {
        String all() { return out + err; }
    }

    static Result run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    private CommandRunner() {}
}
