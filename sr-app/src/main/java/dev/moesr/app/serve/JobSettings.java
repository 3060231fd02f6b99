package dev.moesr.app.serve;

import dev.moesr.app.infer.SuperResolver;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a job asks for, parsed from the request's parameters with the same rules as {@code infer}:
 * a model id from the server's list, steps (a divisor of 1000), ddim or ddpm, a seed, the colour
 * fix on or off, a fusion weight. A setting left blank takes the model's default.
 */
record JobSettings(ModelCatalog.Entry model, Integer steps, SuperResolver.Sampler sampler, long seed, Boolean colorFix, Float fusionWeight) {

    static JobSettings parse(Map<String, String> q, ModelCatalog catalog) {
        ModelCatalog.Entry model = catalog.require(q.get("model"));
        Integer steps = null;
        String s = blankToNull(q.get("steps"));
        if (s != null) {
            try {
                steps = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw bad("steps must be a whole number, got '" + ModelCatalog.shorten(s) + "'");
            }
            if (steps < 1 || steps > 1000 || 1000 % steps != 0) {
                throw bad("steps must divide the 1000 training timesteps (e.g. 200, 100, 50, 20, 10), got " + steps);
            }
        }
        SuperResolver.Sampler sampler = null;
        String sp = blankToNull(q.get("sampler"));
        if (sp != null) {
            sampler = switch (sp.toLowerCase(Locale.ROOT)) {
                case "ddim" -> SuperResolver.Sampler.DDIM;
                case "ddpm" -> SuperResolver.Sampler.DDPM;
                default -> throw bad("the sampler is ddim or ddpm, got '" + ModelCatalog.shorten(sp) + "'");
            };
        }
        long seed = 0;
        String sd = blankToNull(q.get("seed"));
        if (sd != null) {
            try {
                seed = Long.parseLong(sd);
            } catch (NumberFormatException e) {
                throw bad("the seed must be a whole number, got '" + ModelCatalog.shorten(sd) + "'");
            }
        }
        Boolean colorFix = null;
        String cf = blankToNull(q.get("colorFix"));
        if (cf != null) {
            colorFix = switch (cf.toLowerCase(Locale.ROOT)) {
                case "on", "true" -> Boolean.TRUE;
                case "off", "false" -> Boolean.FALSE;
                default -> throw bad("colour fix is on or off, got '" + ModelCatalog.shorten(cf) + "'");
            };
        }
        Float fusion = null;
        String fw = blankToNull(q.get("fusionWeight"));
        if (fw != null) {
            try {
                fusion = Float.parseFloat(fw);
            } catch (NumberFormatException e) {
                throw bad("the fusion weight must be a number, got '" + ModelCatalog.shorten(fw) + "'");
            }
            if (!Float.isFinite(fusion)) throw bad("the fusion weight must be a finite number, got " + fw);
        }
        return new JobSettings(model, steps, sampler, seed, colorFix, fusion);
    }

    /** The options for {@link SuperResolver#upscale} (the progress listener is added by the runner). */
    SuperResolver.Options options() {
        return new SuperResolver.Options().steps(steps).sampler(sampler).seed(seed).colorFix(colorFix).fusionWeight(fusionWeight);
    }

    /** The settings as the job runs them, the model's defaults filled in. */
    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model.id());
        m.put("steps", steps != null ? steps : model.defaults().steps());
        m.put("sampler", (sampler != null ? sampler == SuperResolver.Sampler.DDIM : model.defaults().eta() == 0) ? "ddim" : "ddpm");
        m.put("seed", seed);
        m.put("colorFix", colorFix != null ? colorFix : model.defaults().colorFix());
        m.put("fusionWeight", (double) (fusionWeight != null ? fusionWeight : model.fusionWeight()));
        return m;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static HttpError bad(String message) {
        return new HttpError(400, message);
    }
}
