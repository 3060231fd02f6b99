package dev.moesr.app.serve;

import dev.moesr.app.cli.Failures;
import dev.moesr.app.infer.DefaultModel;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.backend.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code serve}: a local web page for super-resolution (docs/serve.md). */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Start a local web page for super-resolution (docs/serve.md).",
                "On the page: drop or choose an image, pick the model and the sampling, follow the progress, compare the result with "
                        + "the input in a before/after view and download it. Jobs run one at a time; the others wait in a queue.",
                "Listens on 127.0.0.1 (this machine only) unless --host says otherwise; Ctrl-C stops it.",
                "Exit codes: 0 stopped, 1 could not start (no model, port in use), 2 bad command line."})
public final class ServeCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "8080", paramLabel = "N", description = "The port to listen on, 0 for any free one (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "The address to listen on (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0 lets anyone on the network use it).")
    String host;

    @Option(names = "--model", paramLabel = "FILE",
            description = "The default model (default: the shipped models/" + DefaultModel.FILE_NAME + "); the page also offers the other model files in its folder.")
    Path model;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "D", description = "auto, cpu, cuda or cuda:N (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--max-pixels", defaultValue = "16000000", paramLabel = "N", description = "Refuse images with more pixels than this (default ${DEFAULT-VALUE}, as infer).")
    long maxPixels;

    @Option(names = "--max-upload-mb", defaultValue = "100", paramLabel = "MB", description = "Refuse files larger than this many megabytes (default ${DEFAULT-VALUE}).")
    long maxUploadMb;

    @Option(names = "--keep-results", defaultValue = "8", paramLabel = "N", description = "Keep the results of the last N jobs for viewing and download (default ${DEFAULT-VALUE}).")
    int keepResults;

    @Option(names = "--max-queue", defaultValue = "16", paramLabel = "N", description = "At most N jobs wait in the queue (default ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--verbose", description = "On errors, print the stack trace too.")
    boolean verbose;

    @Spec
    CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try {
            return serve(out, err);
        } catch (Exception e) {
            return Failures.report(err, "serve", e, verbose);
        }
    }

    private int serve(PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in [0, 65535], got " + port);
        if (maxUploadMb < 1 || maxUploadMb > 2000) throw new IllegalArgumentException("--max-upload-mb must be in [1, 2000], got " + maxUploadMb);
        ServeServer.Limits limits = new ServeServer.Limits(maxPixels, maxUploadMb * 1_000_000L, keepResults, maxQueue, ServeServer.Limits.defaults().graceMillis());
        Device dev = Device.parse(device);
        String why = Backends.unavailableReason(Backends.resolve(dev));
        if (why != null) throw new IllegalArgumentException("cannot use " + dev + ": " + why);
        ModelCatalog catalog = ModelCatalog.scan(model != null ? model : DefaultModel.require());
        for (String s : catalog.skipped()) err.println("sr-app serve: not offered: " + s);
        ServeServer server = ServeServer.start(host, port, catalog, dev, limits);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "moesr-serve-stop"));
        out.println("sr-app serve: " + server.uri() + "  (" + catalog + " on " + Backends.resolve(dev) + "; Ctrl-C stops)");
        if (!server.loopbackOnly()) {
            out.println("sr-app serve: listening on " + host + ": anyone who can reach this machine can use the page and its CPU/GPU");
        }
        out.flush();
        stopped.await();
        return 0;
    }
}
