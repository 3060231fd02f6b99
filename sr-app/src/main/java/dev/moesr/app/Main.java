package dev.moesr.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code java -jar sr-app.jar <command>}: the entry point of the application. */
@Command(name = "sr-app", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Latent-diffusion image super-resolution (SS-MoE UNet, frequency-compensated decoder) on the JVM.",
        subcommands = {BenchCommand.class, TrainCommand.class, InferCommand.class, DemoCommand.class, EvalCommand.class, DegradeCommand.class, InfoCommand.class, ImportCommand.class, dev.moesr.app.serve.ServeCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) throws Exception {
        if (needsVectorModule()) {
            System.exit(relaunchWithVectorModule(args));
        }
        System.exit(commandLine().execute(args));
    }

    /** The command tree; mistakes on the command line get one line and exit code 2. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine sub = ex.getCommandLine();
            sub.getErr().println(sub.getCommandName().equals("sr-app") ? "sr-app: " + ex.getMessage() + " (see --help)"
                    : "sr-app " + sub.getCommandName() + ": " + ex.getMessage() + " (see " + sub.getCommandName() + " --help)");
            return 2;
        });
        return cl;
    }

    @Override public void run() {
        new CommandLine(this).usage(System.out);
    }

    /**
     * The CPU kernels use the Vector API, an incubator module in Java 17 that a plain
     * {@code java -jar} does not load. Rather than asking every user for a JVM flag, the jar
     * starts itself once more with it, with a heap of up to 75% of the memory and the Z collector
     * unless the command line chooses otherwise (MOESR_NO_RELAUNCH=1 turns this off).
     */
    private static boolean needsVectorModule() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty() && System.getenv("MOESR_NO_RELAUNCH") == null;
    }

    private static int relaunchWithVectorModule(String[] args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse(null);
        Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (java == null || !jar.toString().endsWith(".jar")) {
            return commandLine().execute(args);   // not started from the jar: run with the scalar kernels
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.add("--add-modules=jdk.incubator.vector");
        List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
        // the JVM's default heap is a quarter of the memory; large images on the CPU need more (an explicit -Xmx wins)
        if (jvmArgs.stream().noneMatch(Main::setsHeapSize)) cmd.add("-XX:MaxRAMPercentage=" + DEFAULT_HEAP_PERCENT);
        // tensors are large arrays: G1 never moves them (a heap that holds the live set can fail from fragmentation)
        // and the parallel collector needs each to fit in its old generation; ZGC gives every large array pages of
        // its own, so only the total counts (measured: docs/inference.md). A user's choice of collector wins.
        if (jvmArgs.stream().noneMatch(Main::choosesCollector)) cmd.add("-XX:+UseZGC");
        cmd.addAll(jvmArgs);
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        pb.environment().put("MOESR_NO_RELAUNCH", "1");
        Process child = pb.start();
        // a signal to this launcher (kill PID) must reach the JVM doing the work, whose own hooks keep checkpoints whole
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!child.isAlive()) return;
            child.destroy();
            try {
                child.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        return child.waitFor();
    }

    /** The heap the relaunched JVM may grow to, in percent of the machine's (or container's) memory. */
    static final int DEFAULT_HEAP_PERCENT = 75;

    static boolean setsHeapSize(String jvmArg) {
        // -XX:MaxRAM covers MaxRAMPercentage and MaxRAMFraction too
        return jvmArg.startsWith("-Xmx") || jvmArg.startsWith("-XX:MaxHeapSize") || jvmArg.startsWith("-XX:MaxRAM");
    }

    static boolean choosesCollector(String jvmArg) {
        return jvmArg.startsWith("-XX:+Use") && jvmArg.endsWith("GC");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"sr-app " + (v == null ? "development build" : v)};
        }
    }
}
