package dev.moesr.app.cli;

import picocli.CommandLine.Option;

/** Options every command takes (a picocli mixin). */
public final class CommonOptions {
    @Option(names = "--json", description = "Print the result as JSON on standard output.")
    public boolean json;

    @Option(names = {"-q", "--quiet"}, description = "Show no progress display.")
    public boolean quiet;

    @Option(names = "--verbose", description = "On errors, print the stack trace too.")
    public boolean verbose;
}
