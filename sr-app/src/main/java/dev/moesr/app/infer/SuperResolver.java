package dev.moesr.app.infer;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.MatlabResize;
import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.sampling.ColorFix;
import dev.moesr.diffusion.sampling.DdimSampler;
import dev.moesr.diffusion.sampling.Denoiser;
import dev.moesr.diffusion.sampling.NoiseSchedule;
import dev.moesr.diffusion.sampling.SamplingPlan;
import dev.moesr.diffusion.sampling.SamplingDefaults;
import dev.moesr.diffusion.sampling.TiledDenoiser;
import dev.moesr.diffusion.sampling.Tiles;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Super-resolution with a trained model, as a library:
 * <pre>
 *   try (SuperResolver sr = SuperResolver.open(Path.of("moesr-x4.safetensors"), Device.parse("auto"))) {
 *       Image hr = sr.upscale(lr, new SuperResolver.Options().steps(50).sampler(Sampler.DDIM).seed(7));
 *   }
 * </pre>
 * The pipeline: the LR image in [-1, 1]; the condition is the LR image resized (MATLAB bicubic)
 * to the latent size; the latent is sampled from noise over (optionally tiled) time-stage experts;
 * the frequency-compensated decoder turns it into the image, fusing features of the LR image
 * upscaled to the output size; an optional AdaIN colour fix towards that upscaled LR image.
 */
public final class SuperResolver implements AutoCloseable {

    /** ddpm: ancestral sampling (eta 1), the paper's setting; ddim: deterministic (eta 0), for fewer steps. */
    public enum Sampler {
        DDPM(1.0), DDIM(0.0);

        final double eta;

        Sampler(double eta) { this.eta = eta; }
    }

    /** The two phases of an upscale: sampling the latent, then decoding it. */
    public enum Phase { SAMPLING, DECODING }

    /**
     * Called as the work goes, once per model call: in {@link Phase#SAMPLING} the calls of the
     * denoiser (steps times latent tiles), then in {@link Phase#DECODING} the decoder's tiles
     * (one tile for an image no larger than the tile), each counted from 1 to its phase's total.
     */
    @FunctionalInterface
    public interface ProgressListener {
        void update(Phase phase, int done, int total);
    }

    /**
     * What to do. A setting left unset takes the model's {@link SamplingDefaults} (the paper's 200
     * ancestral steps for the paper's models; fewer deterministic steps for the shipped small one).
     */
    public static final class Options {
        Integer steps;
        Sampler sampler;
        long seed = 0;
        Integer tile;
        Integer overlap;
        Boolean colorFix;
        Float fusionWeight = null;
        ProgressListener progress = null;

        public Options steps(Integer v) { steps = v; return this; }

        public Options sampler(Sampler v) { sampler = v; return this; }

        public Options seed(long v) { seed = v; return this; }

        /** Latent tile side for sampling and decoding (output pixels = tile * latent factor). */
        public Options tile(Integer v) { tile = v; return this; }

        /** Overlap of neighbouring tiles in latent pixels. */
        public Options overlap(Integer v) { overlap = v; return this; }

        public Options colorFix(Boolean v) { colorFix = v; return this; }

        /** The weight of the LR features in the decoder; null keeps the model's configured value. */
        public Options fusionWeight(Float v) { fusionWeight = v; return this; }

        public Options progress(ProgressListener v) { progress = v; return this; }

        /** A short description of the sampling, e.g. "20 DDIM steps, tiles 128/16, no colour fix" (of resolved options). */
        public String describe() {
            return steps + " " + sampler + " steps, tiles " + tile + "/" + overlap + (Boolean.TRUE.equals(colorFix) ? ", colour fix" : ", no colour fix");
        }

        /** The settings with every unset one taken from {@code d}. */
        Options resolved(SamplingDefaults d) {
            Options r = new Options();
            r.steps = steps != null ? steps : d.steps();
            r.sampler = sampler != null ? sampler : (d.eta() == 0 ? Sampler.DDIM : Sampler.DDPM);
            r.seed = seed;
            r.tile = tile != null ? tile : d.tile();
            r.overlap = overlap != null ? overlap : d.overlap();
            r.colorFix = colorFix != null ? colorFix : d.colorFix();
            r.fusionWeight = fusionWeight;
            r.progress = progress;
            return r;
        }
    }

    /** The settings this model uses where the caller's options leave them unset. */
    public SamplingDefaults defaults() { return SamplingDefaults.of(model.config()); }

    /** The options as {@link #upscale} will run them: the caller's, the model's defaults for the rest. */
    public Options effective(Options o) { return o.resolved(defaults()); }

    private final MoesrModel model;
    private final Device device;
    private final float configuredFusionWeight;

    private SuperResolver(MoesrModel model, Device device) {
        this.model = model;
        this.device = device;
        this.configuredFusionWeight = model.firstStage().fusionWeight();
    }

    /** The shipped model (moesr-x4-small, {@link DefaultModel}) on {@code device}. */
    public static SuperResolver openDefault(Device device) throws IOException {
        return open(DefaultModel.require(), device);
    }

    /** Loads a model file and moves it to {@code device} (auto, cpu, cuda:N). */
    public static SuperResolver open(Path modelFile, Device device) throws IOException {
        return of(MoesrModel.openForInference(modelFile, device), device);   // each Space-MoE layer averaged as read: the experts never sit in memory
    }

    /** A model built in code (freshly initialised for a benchmark, say), moved to {@code device}; released if that fails. */
    public static SuperResolver of(MoesrModel m, Device device) {
        try {
            m.to(device);
        } catch (RuntimeException | Error e) {
            m.release();
            throw e;
        }
        m.eval();
        return new SuperResolver(m, Backends.resolve(device));
    }

    public MoesrConfig config() { return model.config(); }

    public int scale() { return model.config().scale(); }

    public Device device() { return device; }

    /**
     * LR sides must be multiples of this so that the latent fits the UNet's downsampling and the
     * decoder's pooling; other sizes are padded (edge pixels repeated) and the output cropped.
     */
    public int sizeMultiple() {
        MoesrConfig c = model.config();
        int needed = lcm(c.latentFactor() * c.unet().downsampleFactor(), 4);   // HR multiple: latent fits the UNet; the AFF UNet pools twice
        return needed / gcd(needed, c.scale());
    }

    /**
     * The super-resolved image: scale times the LR size, in [0, 1], gray if the input is gray, with
     * the alpha upscaled. Memory: the LR image and the latent with its sampling temporaries, one
     * tile of the models at a time, and the result (3 floats per output pixel); the upscaled LR
     * image is made a tile at a time and never whole.
     */
    @SuppressWarnings("try")
    public Image upscale(Image lr, Options options) {
        Options o = effective(options);
        checkOptions(o);
        MoesrConfig c = model.config();
        int scale = c.scale(), lf = c.latentFactor();
        int m = sizeMultiple();
        int ph = roundUp(lr.height(), m), pw = roundUp(lr.width(), m);
        float[] padded = padReplicate(lr.toRgb().pixels(), 3, lr.height(), lr.width(), ph, pw);
        int hrH = ph * scale, hrW = pw * scale, h = hrH / lf, w = hrW / lf;
        int outH = lr.height() * scale, outW = lr.width() * scale;
        if (3L * outH * outW > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("the output " + outW + "x" + outH + " is too large for one image (at most about 700 megapixels); split the input");
        }
        FrequencyCompensatedVqModel firstStage = model.firstStage();
        firstStage.setFusionWeight(o.fusionWeight == null ? configuredFusionWeight : o.fusionWeight);
        int tile = Tiles.balanced(Math.max(h, w), o.tile, o.overlap, c.unet().downsampleFactor());   // evenly spread tiles, no larger than asked
        int tiles = TiledDecode.tileCount(h, w, tile, o.overlap), calls = o.steps * tiles;
        int[] denoised = {0}, decoded = {0};
        Denoiser experts = model.sampling();
        Denoiser counted = o.progress == null ? experts : (zt, cond, t) -> {
            Tensor eps = experts.predictNoise(zt, cond, t);
            o.progress.update(Phase.SAMPLING, ++denoised[0], calls);
            return eps;
        };
        float[] out;                                              // the decoded image in [-1, 1], cropped, until the end
        ChannelMoments moments = new ChannelMoments(3);
        try (GradMode off = GradMode.off(); Scope scope = Scope.open()) {
            Tensor condition = toTensor(resized(padded, ph, pw, h, w), h, w);
            DdimSampler sampler = new DdimSampler(SamplingPlan.uniform(NoiseSchedule.ldmLinear(), o.steps, o.sampler.eta));
            Tensor z = sampler.sample(new TiledDenoiser(counted, tile, o.overlap), condition,
                    new int[] {1, c.unet().outChannels(), h, w}, new Philox(o.seed), null);
            condition.release();
            out = new float[3 * outH * outW];                     // made after sampling, whose temporaries are gone by now
            float[] result = out;
            TiledDecode.decode(z, lf, tile, o.overlap,
                    (y0, y1, x0, x1) -> toTensor(MatlabResize.resizeRegion(padded, 3, ph, pw, hrH, hrW, y0, y1, x0, x1), y1 - y0, x1 - x0),
                    (zt, lt) -> firstStage.decode(zt, firstStage.lrFeatures(lt)),
                    o.progress == null ? null : () -> o.progress.update(Phase.DECODING, ++decoded[0], tiles),
                    (y0, count, planes, width, values) -> {
                        // keep the rows and columns of the unpadded output
                        int rows = Math.min(count, outH - y0);
                        for (int p = 0; p < 3 && rows > 0; p++) {
                            for (int r = 0; r < rows; r++) {
                                int src = (p * count + r) * width, dst = (p * outH + y0 + r) * outW;
                                System.arraycopy(values, src, result, dst, outW);
                                moments.add(p, values, src, outW);
                            }
                        }
                    });
        }
        float[] shift = new float[3], gain = {1, 1, 1};
        if (o.colorFix) {
            // AdaIN (StableSR's colour fix): each channel's mean and deviation become those of the upscaled LR image
            ChannelMoments reference = upscaledMoments(padded, ph, pw, hrH, hrW, outH, outW);
            for (int p = 0; p < 3; p++) {
                gain[p] = (float) (reference.std(p, ColorFix.EPS) / moments.std(p, ColorFix.EPS));
                shift[p] = (float) (reference.mean(p) - moments.mean(p) * gain[p]);
            }
        }
        int n = outH * outW;
        for (int p = 0; p < 3; p++) {
            for (int i = p * n; i < (p + 1) * n; i++) out[i] = Math.min(1f, Math.max(0f, (out[i] * gain[p] + shift[p] + 1f) * 0.5f));
        }
        float[] pixels = lr.channels() == 1 ? meanOfChannels(out, n) : out;
        return new Image(lr.channels(), outH, outW, pixels, lr.resizeAlpha(outH, outW)).withBitDepth(lr.bitDepth());   // 16-bit in, 16-bit out
    }

    /** Channel moments of the LR image upscaled to the output size, in [-1, 1], over the unpadded output, a band of rows at a time. */
    private static ChannelMoments upscaledMoments(float[] padded, int ph, int pw, int hrH, int hrW, int outH, int outW) {
        ChannelMoments moments = new ChannelMoments(3);
        int band = 64;
        for (int y0 = 0; y0 < outH; y0 += band) {
            int rows = Math.min(band, outH - y0);
            float[] region = MatlabResize.resizeRegion(padded, 3, ph, pw, hrH, hrW, y0, y0 + rows, 0, outW);
            for (int i = 0; i < region.length; i++) region[i] = region[i] * 2f - 1f;   // the model's range, as the decoded values
            for (int p = 0; p < 3; p++) moments.add(p, region, p * rows * outW, rows * outW);
        }
        return moments;
    }

    private void checkOptions(Options o) {
        int ds = model.config().unet().downsampleFactor();
        if (o.tile < ds || o.tile % ds != 0) {
            throw new IllegalArgumentException("the tile must be a positive multiple of " + ds + " latent pixels (the UNet's downsampling), got " + o.tile);
        }
        if (o.overlap < 0 || o.overlap >= o.tile) {
            throw new IllegalArgumentException("the overlap must be in [0, tile) = [0, " + o.tile + "), got " + o.overlap);
        }
        if (o.sampler == null) throw new IllegalArgumentException("choose a sampler: ddpm or ddim");
        // SamplingPlan checks the steps (1..1000, dividing 1000) with its own message
    }

    private Tensor toTensor(float[] rgb01, int h, int w) {
        return Tensor.of(device, rgb01, 1, 3, h, w).mul(2f).sub(1f);
    }

    private static float[] resized(float[] rgb, int h, int w, int outH, int outW) {
        return outH == h && outW == w ? rgb : MatlabResize.resizeTo(rgb, 3, h, w, outH, outW);
    }

    static float[] padReplicate(float[] src, int channels, int h, int w, int ph, int pw) {
        if (ph == h && pw == w) return src;
        float[] dst = new float[channels * ph * pw];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < ph; y++) {
                int sy = Math.min(y, h - 1);
                for (int x = 0; x < pw; x++) dst[(c * ph + y) * pw + x] = src[(c * h + sy) * w + Math.min(x, w - 1)];
            }
        }
        return dst;
    }

    private static float[] meanOfChannels(float[] rgb, int n) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) g[i] = (rgb[i] + rgb[n + i] + rgb[2 * n + i]) / 3f;
        return g;
    }

    private static int roundUp(int v, int m) { return (v + m - 1) / m * m; }

    private static int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); }

    private static int lcm(int a, int b) { return a / gcd(a, b) * b; }

    /** Frees the model's weights. */
    @Override public void close() { model.release(); }
}
