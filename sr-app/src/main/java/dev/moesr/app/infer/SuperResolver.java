package dev.moesr.app.infer;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.MatlabResize;
import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.sampling.ColorFix;
import dev.moesr.diffusion.sampling.DdimSampler;
import dev.moesr.diffusion.sampling.NoiseSchedule;
import dev.moesr.diffusion.sampling.SamplingPlan;
import dev.moesr.diffusion.sampling.TiledDenoiser;
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

    /** Called as sampling goes: steps done of the total. */
    @FunctionalInterface
    public interface ProgressListener {
        void update(int done, int total);
    }

    /** What to do; the defaults are the paper's sampling (200 ancestral steps), untiled for images up to 512 output pixels. */
    public static final class Options {
        int steps = 200;
        Sampler sampler = Sampler.DDPM;
        long seed = 0;
        int tile = 128;
        int overlap = 32;
        boolean colorFix = false;
        Float fusionWeight = null;
        ProgressListener progress = null;

        public Options steps(int v) { steps = v; return this; }

        public Options sampler(Sampler v) { sampler = v; return this; }

        public Options seed(long v) { seed = v; return this; }

        /** Latent tile side for sampling and decoding (output pixels = tile * latent factor). */
        public Options tile(int v) { tile = v; return this; }

        /** Overlap of neighbouring tiles in latent pixels. */
        public Options overlap(int v) { overlap = v; return this; }

        public Options colorFix(boolean v) { colorFix = v; return this; }

        /** The weight of the LR features in the decoder; null keeps the model's configured value. */
        public Options fusionWeight(Float v) { fusionWeight = v; return this; }

        public Options progress(ProgressListener v) { progress = v; return this; }

        public int tile() { return tile; }
    }

    private final MoesrModel model;
    private final Device device;
    private final float configuredFusionWeight;

    private SuperResolver(MoesrModel model, Device device) {
        this.model = model;
        this.device = device;
        this.configuredFusionWeight = model.firstStage().fusionWeight();
    }

    /** Loads a model file and moves it to {@code device} (auto, cpu, cuda:N). */
    public static SuperResolver open(Path modelFile, Device device) throws IOException {
        MoesrModel m = MoesrModel.open(modelFile);
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

    /** The super-resolved image: scale times the LR size, in [0, 1], gray if the input is gray, with the alpha upscaled. */
    @SuppressWarnings("try")
    public Image upscale(Image lr, Options o) {
        checkOptions(o);
        MoesrConfig c = model.config();
        int scale = c.scale(), lf = c.latentFactor();
        int m = sizeMultiple();
        Image rgb = lr.toRgb();
        int ph = roundUp(lr.height(), m), pw = roundUp(lr.width(), m);
        float[] padded = padReplicate(rgb.pixels(), 3, lr.height(), lr.width(), ph, pw);
        int hrH = ph * scale, hrW = pw * scale, h = hrH / lf, w = hrW / lf;
        float[] out;
        FrequencyCompensatedVqModel firstStage = model.firstStage();
        firstStage.setFusionWeight(o.fusionWeight == null ? configuredFusionWeight : o.fusionWeight);
        try (GradMode off = GradMode.off(); Scope scope = Scope.open()) {
            Tensor condition = toTensor(resized(padded, ph, pw, h, w), h, w);
            Tensor lrUp = toTensor(resized(padded, ph, pw, hrH, hrW), hrH, hrW);
            DdimSampler sampler = new DdimSampler(SamplingPlan.uniform(NoiseSchedule.ldmLinear(), o.steps, o.sampler.eta));
            DdimSampler.Progress progress = o.progress == null ? null : o.progress::update;
            Tensor z = sampler.sample(new TiledDenoiser(model.sampling(), o.tile, o.overlap), condition,
                    new int[] {1, c.unet().outChannels(), h, w}, new Philox(o.seed), progress);
            Tensor image = TiledDecode.decode(z, lrUp, lf, o.tile, o.overlap, (zt, lt) -> firstStage.decode(zt, firstStage.lrFeatures(lt)));
            if (o.colorFix) image = ColorFix.adain(image, lrUp);
            out = image.add(1f).mul(0.5f).clamp(0f, 1f).toFloatArray();
        }
        int outH = lr.height() * scale, outW = lr.width() * scale;
        float[] cropped = crop(out, 3, hrH, hrW, outH, outW);
        float[] pixels = lr.channels() == 1 ? meanOfChannels(cropped, outH * outW) : cropped;
        return new Image(lr.channels(), outH, outW, pixels, lr.resizeAlpha(outH, outW));
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

    static float[] crop(float[] src, int channels, int h, int w, int outH, int outW) {
        if (outH == h && outW == w) return src;
        float[] dst = new float[channels * outH * outW];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < outH; y++) System.arraycopy(src, (c * h + y) * w, dst, (c * outH + y) * outW, outW);
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
