package dev.moesr.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code bench matmul|conv2d|groupnorm|memory|unet|infer}: kernel throughput, median of timed repetitions after warm-up. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {
                "Measure kernels, model steps and whole images: the median time of timed repetitions after warm-up, with GFLOP/s or GB/s.",
                "Compare with peers on the same machine: tools/bench-cpu.sh (numpy and PyTorch on the CPU), tools/gpu-session.sh (PyTorch on the GPU)."},
        subcommands = {MatmulBench.class, Conv2dBench.class, GroupNormBench.class, MemoryBench.class, UnetBench.class, InferBench.class})
final class BenchCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override public void run() {
        // no kernel named: picocli prints this message and the usage above
        throw new CommandLine.ParameterException(spec.commandLine(), "name what to measure: matmul, conv2d, groupnorm, memory, unet or infer");
    }
}
