package dev.moesr.app;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code bench matmul|conv2d}: kernel throughput (written with the CPU kernels). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure kernel throughput.")
final class BenchCommand implements Callable<Integer> {
    @Override public Integer call() {
        System.err.println("sr-app: 'bench' is not available in this build yet (tracked in issue 2)");
        return 3;
    }
}
