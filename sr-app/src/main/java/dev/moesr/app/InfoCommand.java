package dev.moesr.app;

import dev.moesr.app.cli.CommonOptions;
import dev.moesr.app.cli.Failures;
import dev.moesr.app.cli.Json;
import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.nn.io.SafeTensorsFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code info}: what a model configuration (or a model file's configuration) consists of. */
@Command(name = "info", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Parameter counts of each component of a model configuration, computed from its shapes.",
                "--config takes a preset (moesr-x8, moesr-x4, tiny) or a model/checkpoint file whose metadata holds one."})
public final class InfoCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "NAME|FILE", description = "A preset name or a .safetensors file written by this program.")
    String config;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try {
            MoesrConfig c = resolve(config);
            Map<String, Long> counts = c.parameterCounts();
            if (common.json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("config", c.name());
                o.put("scale", c.scale());
                o.put("sampling_experts", c.experts());
                o.put("space_experts", c.unet().spaceExperts());
                o.put("parameters", counts);
                out.println(Json.write(o));
            } else {
                out.printf(Locale.ROOT, "%s: %dx super-resolution, %d Sampling experts, %d space experts per MoE layer%n",
                        c.name(), c.scale(), c.experts(), c.unet().spaceExperts());
                for (var e : counts.entrySet()) out.printf(Locale.ROOT, "  %-88s %,15d%n", e.getKey(), e.getValue());
            }
            out.flush();
            return 0;
        } catch (Exception e) {
            return Failures.report(err, "info", e, common.verbose);
        }
    }

    /** A preset by name, or the configuration in a model file's metadata. */
    static MoesrConfig resolve(String nameOrFile) throws java.io.IOException {
        if (MoesrConfig.presetNames().contains(nameOrFile.toLowerCase(Locale.ROOT))) return MoesrConfig.byName(nameOrFile);
        Path p = Path.of(nameOrFile);
        if (!Files.exists(p)) {
            throw new IllegalArgumentException("'" + nameOrFile + "' is neither a preset (" + String.join(", ", MoesrConfig.presetNames()) + ") nor an existing file");
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            return MoesrConfig.fromMetadata(f.metadata());
        }
    }
}
