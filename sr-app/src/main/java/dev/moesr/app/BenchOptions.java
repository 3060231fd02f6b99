package dev.moesr.app;

import picocli.CommandLine.Option;

/** The options every benchmark shares. */
final class BenchOptions {
    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEVICE",
            description = "Where to run: cpu, cuda, cuda:N or auto (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--threads", paramLabel = "N",
            description = "CPU threads for the kernels (default: all processors, or -Dmoesr.threads).")
    Integer threads;

    @Option(names = "--warmup", defaultValue = "5", paramLabel = "N",
            description = "Untimed runs first, for the JIT and caches (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--warmup-seconds", defaultValue = "2", paramLabel = "S",
            description = "Keep warming up at least this long: the JIT compiles the kernels on the same cores "
                    + "in the first second or so (default: ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Option(names = "--reps", defaultValue = "20", paramLabel = "N",
            description = "Timed runs; the median is reported (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--json", description = "Print one JSON object instead of a sentence.")
    boolean json;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "N",
            description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).")
    long seed;
}
