package dev.moesr.nn;

import dev.moesr.nn.io.SafeTensors;
import dev.moesr.nn.layers.AvgPool2d;
import dev.moesr.nn.layers.BatchNorm2d;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.GELU;
import dev.moesr.nn.layers.GroupNorm;
import dev.moesr.nn.layers.LayerNorm;
import dev.moesr.nn.layers.LeakyReLU;
import dev.moesr.nn.layers.Linear;
import dev.moesr.nn.layers.PixelShuffle;
import dev.moesr.nn.layers.SiLU;
import dev.moesr.nn.layers.Upsample;
import dev.moesr.nn.loss.FocalFrequencyLoss;
import dev.moesr.nn.loss.Losses;
import dev.moesr.nn.optim.Adam;
import dev.moesr.nn.optim.AdamW;
import dev.moesr.nn.optim.GradClip;
import dev.moesr.nn.optim.Optimizer;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Golden fixtures made by PyTorch (nn/src/test/python/make_fixtures.py): layer outputs and
 * gradients, optimiser trajectories, clipping and losses, compared within float32 tolerances.
 */
class PyTorchFixturesTest {
    private Scope scope;

    @BeforeEach void open() { scope = Scope.open(); }

    @AfterEach void close() { scope.close(); }

    static SafeTensors.Contents fixture(String name) throws IOException {
        URL url = PyTorchFixturesTest.class.getResource("/fixtures/" + name + ".safetensors");
        assertNotNull(url, "fixture " + name + " is missing: run nn/src/test/python/make_fixtures.py");
        try {
            return SafeTensors.read(Path.of(url.toURI()));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static void assertClose(Tensor expected, Tensor got, double atol, double rtol, String what) {
        assertArrayEquals(expected.dims(), got.dims(), what + " shape");
        float[] e = expected.toFloatArray(), g = got.toFloatArray();
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], g[i], atol + rtol * Math.abs(e[i]), what + " at flat index " + i);
        }
    }

    static void assertClose(Tensor expected, Tensor got, String what) { assertClose(expected, got, 1e-5, 1e-4, what); }

    /** The entries under {@code prefix}, with the prefix removed. */
    static Map<String, Tensor> under(Map<String, Tensor> all, String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : all.entrySet()) if (e.getKey().startsWith(prefix)) out.put(e.getKey().substring(prefix.length()), e.getValue());
        return out;
    }

    /** Loads the module state, runs forward and backward of sum(y * grad_output), compares output and every gradient. */
    private static void checkLayer(String name, Layer layer) throws IOException {
        Map<String, Tensor> t = fixture(name).tensors();
        layer.loadStateDict(under(t, "module."), true);
        Tensor x = t.get("input").requiresGrad();
        Tensor y = layer.forward(x);
        assertClose(t.get("output"), y, name + " output");
        y.mul(t.get("grad_output")).sum().backward();
        assertClose(t.get("grad.input"), x.grad(), name + " input gradient");
        for (var e : layer.namedParameters().entrySet()) {
            assertClose(t.get("grad." + e.getKey()), e.getValue().grad(), 1e-4, 1e-4, name + " gradient of " + e.getKey());
        }
        layer.release();
    }

    private static int meta(SafeTensors.Contents c, String key) { return Integer.parseInt(c.metadata().get(key)); }

    @Test
    void linear() throws IOException {
        var c = fixture("linear");
        checkLayer("linear", new Linear(meta(c, "in"), meta(c, "out"), new Philox(0)));
    }

    @Test
    void conv2dStridedGrouped() throws IOException {
        var c = fixture("conv2d_s2_g2");
        checkLayer("conv2d_s2_g2", new Conv2d(meta(c, "in"), meta(c, "out"), meta(c, "kernel"), meta(c, "stride"), meta(c, "padding"),
                meta(c, "dilation"), meta(c, "groups"), true, new Philox(0)));
    }

    @Test
    void conv2dDilatedWithoutBias() throws IOException {
        var c = fixture("conv2d_d2");
        checkLayer("conv2d_d2", new Conv2d(meta(c, "in"), meta(c, "out"), meta(c, "kernel"), meta(c, "stride"), meta(c, "padding"),
                meta(c, "dilation"), meta(c, "groups"), false, new Philox(0)));
    }

    @Test
    void groupNorm() throws IOException {
        var c = fixture("group_norm");
        checkLayer("group_norm", new GroupNorm(meta(c, "groups"), meta(c, "channels")));
    }

    @Test
    void layerNorm() throws IOException {
        checkLayer("layer_norm", new LayerNorm(meta(fixture("layer_norm"), "features")));
    }

    @Test
    void batchNormTrainingStepThenEvaluation() throws IOException {
        var c = fixture("batch_norm");
        Map<String, Tensor> t = c.tensors();
        BatchNorm2d bn = new BatchNorm2d(meta(c, "channels"));
        bn.loadStateDict(under(t, "module."), true);
        assertClose(t.get("output"), bn.forward(t.get("input")), "training output");
        for (var e : under(t, "after.").entrySet()) assertClose(e.getValue(), bn.stateDict().get(e.getKey()), "state after the step: " + e.getKey());
        bn.eval();
        assertClose(t.get("eval_output"), bn.forward(t.get("eval_input")), "evaluation output");
        bn.release();
    }

    @Test
    void resampling() throws IOException {
        var t = fixture("pixel_shuffle").tensors();
        assertClose(t.get("output"), new PixelShuffle(2).forward(t.get("input")), 0, 0, "pixel shuffle");
        t = fixture("upsample_nearest").tensors();
        assertClose(t.get("output"), new Upsample(2).forward(t.get("input")), 0, 0, "nearest upsampling");
        t = fixture("avg_pool").tensors();
        assertClose(t.get("output"), new AvgPool2d(2, 2, 0).forward(t.get("input")), "average pooling");
    }

    @Test
    void activations() throws IOException {
        var t = fixture("activations").tensors();
        Tensor x = t.get("input");
        assertClose(t.get("silu"), new SiLU().forward(x), "silu");
        assertClose(t.get("gelu"), new GELU().forward(x), "gelu");
        assertClose(t.get("gelu_tanh"), new GELU(true).forward(x), "gelu tanh");
        assertClose(t.get("leaky_relu"), new LeakyReLU(0.2f).forward(x), "leaky relu");
    }

    @Test
    void losses() throws IOException {
        var t = fixture("losses").tensors();
        assertClose(t.get("mse"), Losses.mse(t.get("pred"), t.get("target")), "mse");
        assertClose(t.get("l1"), Losses.l1(t.get("pred"), t.get("target")), "l1");
        assertClose(t.get("hinge_d"), Losses.hingeDiscriminator(t.get("real_logits"), t.get("fake_logits")), "hinge D");
        assertClose(t.get("hinge_g"), Losses.hingeGenerator(t.get("fake_logits")), "hinge G");
    }

    @Test
    void focalFrequencyLoss() throws IOException {
        for (String name : List.of("ffl", "ffl_alpha2_log")) {
            var c = fixture(name);
            Map<String, Tensor> t = c.tensors();
            FocalFrequencyLoss ffl = new FocalFrequencyLoss(Double.parseDouble(c.metadata().get("alpha")),
                    Boolean.parseBoolean(c.metadata().get("log_matrix")), 1.0);
            Tensor fake = t.get("fake").requiresGrad();
            Tensor loss = ffl.apply(fake, t.get("real"));
            assertClose(t.get("loss"), loss, name + " loss");
            loss.backward();
            assertClose(t.get("grad.fake"), fake.grad(), 1e-6, 1e-4, name + " gradient");
        }
    }

    /** Two parameters stepped three times from PyTorch's recorded gradients (gradient g made by backward of sum(p * g)). */
    private static void checkOptimizer(String name, boolean decoupled) throws IOException {
        var c = fixture(name);
        Map<String, Tensor> t = c.tensors();
        class Pair extends Module {
            final Parameter p = registerParameter("p", t.get("p0").copy());
            final Parameter q = registerParameter("q", t.get("q0").copy());
        }
        Pair m = new Pair();
        double lr = Double.parseDouble(c.metadata().get("lr")), b1 = Double.parseDouble(c.metadata().get("beta1"));
        double b2 = Double.parseDouble(c.metadata().get("beta2")), eps = Double.parseDouble(c.metadata().get("eps"));
        double wd = Double.parseDouble(c.metadata().get("weight_decay"));
        Optimizer opt = decoupled ? new AdamW(m.namedParameters(), lr, b1, b2, eps, wd) : new Adam(m.namedParameters(), lr, b1, b2, eps, wd);
        for (int step = 1; step <= 3; step++) {
            opt.zeroGrad();
            m.p.tensor().mul(t.get("gp" + step)).sum().add(m.q.tensor().mul(t.get("gq" + step)).sum()).backward();
            opt.step();
            assertClose(t.get("p" + step), m.p.tensor(), 1e-6, 1e-5, name + " p after step " + step);
            assertClose(t.get("q" + step), m.q.tensor(), 1e-6, 1e-5, name + " q after step " + step);
        }
        Map<String, Tensor> state = opt.stateDict();
        assertClose(t.get("p.exp_avg"), state.get("p.exp_avg"), 1e-6, 1e-5, name + " exp_avg");
        assertClose(t.get("p.exp_avg_sq"), state.get("p.exp_avg_sq"), 1e-7, 1e-5, name + " exp_avg_sq");
        assertEquals(3f, state.get("p.step").item());
        opt.release();
        m.release();
    }

    @Test
    void adam() throws IOException { checkOptimizer("adam", false); }

    @Test
    void adamW() throws IOException { checkOptimizer("adamw", true); }

    @Test
    void clipGradNorm() throws IOException {
        var c = fixture("clip_grad_norm");
        Map<String, Tensor> t = c.tensors();
        class Pair extends Module {
            final Parameter a = registerParameter("a", Tensor.zeros(t.get("ga").dims()));
            final Parameter b = registerParameter("b", Tensor.zeros(t.get("gb").dims()));
        }
        Pair m = new Pair();
        m.a.tensor().mul(t.get("ga")).sum().add(m.b.tensor().mul(t.get("gb")).sum()).backward();
        double norm = GradClip.clipGradNorm(m.parameters(), Double.parseDouble(c.metadata().get("max_norm")));
        assertEquals(t.get("norm").item(), norm, 1e-5 * norm);
        assertClose(t.get("clipped_ga"), m.a.grad(), 1e-6, 1e-5, "clipped a");
        assertClose(t.get("clipped_gb"), m.b.grad(), 1e-6, 1e-5, "clipped b");
        m.release();
    }

    @Test
    void halfAndBfloatStorageReadsAsTorchRoundsIt() throws IOException {
        Map<String, Tensor> t = fixture("half_types").tensors();
        assertClose(t.get("f16_as_f32"), t.get("f16"), 0, 0, "F16");
        assertClose(t.get("bf16_as_f32"), t.get("bf16"), 0, 0, "BF16");
    }
}
