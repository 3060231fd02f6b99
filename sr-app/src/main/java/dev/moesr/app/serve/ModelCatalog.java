package dev.moesr.app.serve;

import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.diffusion.sampling.SamplingDefaults;
import dev.moesr.nn.io.SafeTensorsFile;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The models the page may choose from, made once when the server starts: the default model
 * (--model, or the shipped one) and every other {@code *.safetensors} model file in its folder.
 * A request names a model by its id (the file name) and only ids of this list are accepted, so
 * no path from a request ever reaches the file system. Only the files' headers are read here (the
 * configuration in the metadata); the weights are loaded when a job needs them.
 */
final class ModelCatalog {

    /** A model file: its id, its preset name, scale and the settings it uses unless told otherwise. */
    record Entry(String id, Path file, String preset, int scale, SamplingDefaults defaults, float fusionWeight, boolean isDefault) {
        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("preset", preset);
            m.put("scale", scale);
            m.put("default", isDefault);
            m.put("steps", defaults.steps());
            m.put("sampler", defaults.eta() == 0 ? "ddim" : "ddpm");
            m.put("colorFix", defaults.colorFix());
            m.put("fusionWeight", (double) fusionWeight);
            return m;
        }
    }

    private final List<Entry> entries;
    private final List<String> skipped;

    private ModelCatalog(List<Entry> entries, List<String> skipped) {
        this.entries = List.copyOf(entries);
        this.skipped = List.copyOf(skipped);
    }

    /** The default model and the other model files beside it; the default must be a model file. */
    static ModelCatalog scan(Path defaultModel) throws IOException {
        Path file = defaultModel.toAbsolutePath().normalize();
        List<Entry> entries = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        entries.add(describe(file, true));
        Path folder = file.getParent();
        List<Path> others = new ArrayList<>();
        if (folder != null) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(folder, "*.safetensors")) {
                for (Path p : ds) if (!p.equals(file) && Files.isRegularFile(p)) others.add(p);
            } catch (IOException e) {
                skipped.add(folder + ": cannot be listed (" + e.getMessage() + ")");
            }
        }
        Collections.sort(others);
        for (Path p : others) {
            try {
                entries.add(describe(p, false));
            } catch (IOException e) {
                skipped.add(e.getMessage());   // a training checkpoint or another kind of file: not offered
            }
        }
        return new ModelCatalog(entries, skipped);
    }

    /** Reads a model file's header: the configuration, its scale and sampling defaults. */
    static Entry describe(Path file, boolean isDefault) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException("no model file at " + file);
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            Map<String, String> meta = f.metadata();
            if (!MoesrModel.KIND.equals(meta.get(MoesrModel.KIND_KEY))) {
                throw new IOException(file + " is not a moesr model file (no " + MoesrModel.KIND_KEY + " = " + MoesrModel.KIND + " in its metadata)");
            }
            MoesrConfig c = MoesrConfig.fromMetadata(meta);
            return new Entry(file.getFileName().toString(), file, c.name(), c.scale(), SamplingDefaults.of(c), c.decoder().fusionWeight(), isDefault);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": not a readable model file (" + e.getMessage() + ")", e);
        }
    }

    List<Entry> entries() { return entries; }

    /** Files in the folder that were not offered, with the reason. */
    List<String> skipped() { return skipped; }

    Entry defaultEntry() { return entries.get(0); }

    /** The entry of an id from the list; a blank id means the default model. */
    Entry require(String id) {
        if (id == null || id.isBlank()) return defaultEntry();
        for (Entry e : entries) if (e.id.equals(id)) return e;
        throw new HttpError(400, "unknown model '" + shorten(id) + "'; choose one of " + ids());
    }

    List<String> ids() {
        List<String> ids = new ArrayList<>();
        for (Entry e : entries) ids.add(e.id);
        return ids;
    }

    static String shorten(String s) {
        String t = s.replaceAll("\\p{Cntrl}", "?");
        return t.length() <= 80 ? t : t.substring(0, 77) + "...";
    }

    @Override public String toString() {
        return String.format(Locale.ROOT, "%d model(s): %s", entries.size(), ids());
    }
}
