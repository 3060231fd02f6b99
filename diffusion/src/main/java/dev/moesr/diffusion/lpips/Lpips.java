package dev.moesr.diffusion.lpips;

import dev.moesr.nn.Layer;
import dev.moesr.nn.Module;
import dev.moesr.nn.Sequential;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.Identity;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * LPIPS with a VGG16 backbone (Zhang et al. 2018), as the lpips package and taming-transformers
 * compute it for images in [-1, 1]:
 * <pre>
 *   x' = (x - shift) / scale                      scaling_layer, per RGB channel
 *   f_l = VGG16 activations relu1_2, relu2_2, relu3_3, relu4_3, relu5_3
 *   u_l = f_l / (||f_l||_channels + 1e-10)        unit-normalised along channels
 *   d = sum_l mean_hw( lin_l((u_l(a) - u_l(b))^2) )   lin_l: 1x1 conv to one channel, no bias
 * </pre>
 * State-dict names are the lpips package's: scaling_layer.shift, scaling_layer.scale (buffers),
 * net.slice{1..5}.{i}.weight/bias with i the layer's index in torchvision's vgg16().features
 * (slice1 = 0..3, slice2 = 4..8, slice3 = 9..15, slice4 = 16..22, slice5 = 23..29), and
 * lin{l}.model.1.weight (index 0 is a dropout, the identity here: LPIPS is only ever evaluated).
 *
 * <p>No weights ship with the project; {@link #loadWeights} reads converted ones. The widths are
 * a parameter so the architecture can be tested on a narrow network.
 */
public class Lpips extends Module {
    /** VGG16's widths at the five tapped layers. */
    public static final List<Integer> VGG16_WIDTHS = List.of(64, 128, 256, 512, 512);
    private static final int[] CONVS_PER_SLICE = {2, 2, 3, 3, 3};
    private static final float[] SHIFT = {-0.030f, -0.088f, -0.188f};
    private static final float[] SCALE = {0.458f, 0.448f, 0.450f};
    private static final float EPS = 1e-10f, TINY_SQUARE = 1e-20f;

    /** One slice of torchvision's VGG16 features: [max-pool,] then convolutions each followed by ReLU; children named by torchvision index. */
    static final class VggSlice extends Layer {
        private final boolean pool;
        private final List<Conv2d> convs = new ArrayList<>();

        VggSlice(int firstIndex, boolean pool, int in, int out, int convCount, Philox rng) {
            this.pool = pool;
            int index = firstIndex + (pool ? 1 : 0);
            for (int i = 0; i < convCount; i++) {
                convs.add(registerModule(Integer.toString(index), new Conv2d(i == 0 ? in : out, out, 3, 1, 1, rng)));
                index += 2;   // a ReLU (no state) follows every convolution
            }
        }

        @Override public Tensor forward(Tensor x) {
            Tensor h = pool ? x.maxPool2d(2, 2, 0) : x;
            for (Conv2d c : convs) h = c.forward(h).relu();
            return h;
        }
    }

    /** The five slices (net.slice1 .. net.slice5). */
    static final class Vgg16Features extends Module {
        final List<VggSlice> slices = new ArrayList<>();

        Vgg16Features(List<Integer> widths, Philox rng) {
            int index = 0, in = 3;
            for (int s = 0; s < 5; s++) {
                VggSlice slice = new VggSlice(index, s > 0, in, widths.get(s), CONVS_PER_SLICE[s], rng);
                slices.add(registerModule("slice" + (s + 1), slice));
                index += (s > 0 ? 1 : 0) + 2 * CONVS_PER_SLICE[s];
                in = widths.get(s);
            }
        }
    }

    /** The fixed input normalisation (buffers shift and scale, [1, 3, 1, 1]). */
    static final class ScalingLayer extends Module {
        ScalingLayer() {
            registerBuffer("shift", Tensor.of(SHIFT, 1, 3, 1, 1));
            registerBuffer("scale", Tensor.of(SCALE, 1, 3, 1, 1));
        }

        Tensor apply(Tensor x) { return x.sub(ownBuffer("shift").tensor()).div(ownBuffer("scale").tensor()); }
    }

    /** lpips' NetLinLayer: child "model", a Sequential of dropout (identity here) and the 1x1 convolution. */
    static final class LinearHead extends Module {
        LinearHead(Conv2d conv) { registerModule("model", new Sequential(new Identity(), conv)); }
    }

    public final List<Integer> widths;
    private final ScalingLayer scalingLayer;
    private final Vgg16Features net;
    private final List<Conv2d> lins = new ArrayList<>();

    /** The real LPIPS-VGG architecture (14.7M backbone parameters), randomly initialised until {@link #loadWeights}. */
    public static Lpips vgg16(Philox rng) { return new Lpips(VGG16_WIDTHS, rng); }

    /** LPIPS on a VGG16-shaped backbone with the given five widths (VGG16_WIDTHS for the real one). */
    public Lpips(List<Integer> widths, Philox rng) {
        if (widths.size() != 5 || widths.stream().anyMatch(w -> w <= 0)) {
            throw new IllegalArgumentException("LPIPS-VGG needs five positive widths, got " + widths);
        }
        this.widths = List.copyOf(widths);
        this.scalingLayer = registerModule("scaling_layer", new ScalingLayer());
        this.net = registerModule("net", new Vgg16Features(widths, rng));
        for (int l = 0; l < 5; l++) {
            Conv2d lin = new Conv2d(widths.get(l), 1, 1, 1, 0, 1, 1, false, rng);
            registerModule("lin" + l, new LinearHead(lin));
            lins.add(lin);
        }
        setTrainable(false);   // a fixed metric; its input still gets gradients
        eval();
    }

    /** The LPIPS distance of each pair of images [N, 3, H, W] in [-1, 1]: shape [N]. */
    public Tensor forward(Tensor a, Tensor b) {
        if (a.rank() != 4 || a.dim(1) != 3 || !a.shape().equals(b.shape())) {
            throw new IllegalArgumentException("LPIPS compares two batches of RGB images of the same shape [N, 3, H, W], got " + a.shape() + " and " + b.shape());
        }
        if (a.dim(2) < 16 || a.dim(3) < 16) {
            throw new IllegalArgumentException("LPIPS pools four times and needs images of at least 16x16, got " + a.shape());
        }
        Tensor ha = scalingLayer.apply(a), hb = scalingLayer.apply(b);
        Tensor total = null;
        for (int l = 0; l < 5; l++) {
            VggSlice slice = net.slices.get(l);
            ha = slice.forward(ha);
            hb = slice.forward(hb);
            Tensor diff = unitNormalise(ha).sub(unitNormalise(hb)).square();
            Tensor layer = lins.get(l).forward(diff).mean(new int[] {1, 2, 3}, false);   // one channel: mean over H, W
            total = total == null ? layer : total.add(layer);
        }
        return total;
    }

    /**
     * f / (sqrt(sum_c f^2) + 1e-10). Where every channel is 0 (all ReLUs off) sqrt's gradient
     * would be 0/0 = NaN, which PyTorch's ReLU backward masks out by selection but a multiplying
     * backward does not; adding 1e-20 under the root keeps it finite and changes no value that
     * float32 can tell apart (only sums below ~1e-12, where f / norm is 0 or rounding anyway).
     */
    private static Tensor unitNormalise(Tensor f) {
        return f.div(f.square().sum(1, true).add(TINY_SQUARE).sqrt().add(EPS));
    }

    // ---- weights --------------------------------------------------------------------------------

    private static final Pattern TORCHVISION = Pattern.compile("(?:net\\.)?features\\.(\\d+)\\.(weight|bias)");
    private static final Pattern LINS = Pattern.compile("lins\\.(\\d)\\.(.*)");

    /**
     * Loads converted weights from a safetensors file. Accepted names: the lpips package's (see
     * the class comment; the duplicate {@code lins.{l}.*} entries of lpips.LPIPS are accepted
     * too), or torchvision's {@code features.{i}.weight/bias} for the backbone. The scaling buffers
     * may be absent (they are constants). Every backbone and head weight must be present; the
     * file is checked before anything is written.
     */
    public void loadWeights(Path file) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(file); Scope s = Scope.open()) {
            Map<String, Tensor> own = stateDict();
            Map<String, String> sourceOf = new LinkedHashMap<>();   // our name -> the file's name
            List<String> unexpected = new ArrayList<>();
            for (String key : f.entries().keySet()) {
                String ours = ourName(key);
                if (ours == null || !own.containsKey(ours)) unexpected.add(key);
                else sourceOf.putIfAbsent(ours, key);
            }
            List<String> missing = new ArrayList<>();
            for (String key : own.keySet()) {
                if (!sourceOf.containsKey(key) && !key.startsWith("scaling_layer.")) missing.add(key);
            }
            if (!missing.isEmpty() || !unexpected.isEmpty()) {
                throw new IllegalArgumentException("cannot load LPIPS weights from " + file + " (nothing was changed): "
                        + (missing.isEmpty() ? "" : "missing " + missing + " ") + (unexpected.isEmpty() ? "" : "unexpected " + unexpected)
                        + "; expected the lpips package's names (net.slice1.0.weight, ..., lin0.model.1.weight) or torchvision's features.{i}.*");
            }
            Map<String, Tensor> state = new LinkedHashMap<>();
            for (var e : sourceOf.entrySet()) state.put(e.getKey(), f.read(e.getValue()));
            loadStateDict(state, false);   // shapes are checked before anything is written
        }
    }

    /** Our state name for a name in a converted file, or null when it means nothing to LPIPS-VGG. */
    static String ourName(String key) {
        Matcher m = TORCHVISION.matcher(key);
        if (m.matches()) {
            int index = Integer.parseInt(m.group(1));
            int slice = index < 4 ? 1 : index < 9 ? 2 : index < 16 ? 3 : index < 23 ? 4 : index < 30 ? 5 : -1;
            return slice < 0 ? null : "net.slice" + slice + "." + index + "." + m.group(2);
        }
        m = LINS.matcher(key);
        if (m.matches()) return "lin" + m.group(1) + "." + m.group(2);
        return key;
    }
}
