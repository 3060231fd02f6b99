package dev.moesr.diffusion.decoder;

import dev.moesr.diffusion.autoencoder.Fixtures;
import dev.moesr.diffusion.autoencoder.VectorQuantizer;
import dev.moesr.diffusion.autoencoder.VqConfig;
import dev.moesr.nn.Parameter;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static dev.moesr.diffusion.autoencoder.Fixtures.assertClose;
import static dev.moesr.diffusion.autoencoder.Fixtures.assertGradClose;
import static dev.moesr.diffusion.autoencoder.Fixtures.metaInt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The frequency filter, AFF blocks, CFW fusion and the whole tiny frequency-compensated model against PyTorch. */
class DecoderFixturesTest {
    private Scope scope;

    @BeforeEach void open() { scope = Scope.open(); }

    @AfterEach void close() { scope.close(); }

    private static FrequencyDecoderConfig affConfig(int groups, int blocks, int factor) {
        return new FrequencyDecoderConfig(1, 4, 1f, 1, groups, 0f, blocks, factor, 0.01f);
    }

    private static void checkGrads(SafeTensors.Contents c, String prefix, Map<String, Parameter> params) {
        for (String name : Fixtures.metaList(c, "grad_names")) {
            assertGradClose(c.tensors().get(prefix + name), params.get(name).grad(), "gradient of " + name);
        }
    }

    @Test
    void frequencyFilterMatchesPyTorch() throws IOException {
        SafeTensors.Contents c = Fixtures.load("decoder/filter");
        Map<String, Tensor> t = c.tensors();
        var filter = new AdaptiveFrequencyFilter(metaInt(c, "channels"), metaInt(c, "blocks"), metaInt(c, "factor"), 0.01f, new Philox(3));
        filter.loadStateDict(Fixtures.under(t, "module."), true);
        Tensor x = t.get("input").requiresGrad();
        Tensor y = filter.forward(x);
        assertClose(t.get("output"), y, "filter output");
        y.mul(t.get("grad_output")).sum().backward();
        assertGradClose(t.get("grad.input"), x.grad(), "filter input gradient");
        for (String w : List.of("w1", "b1", "w2", "b2")) assertGradClose(t.get("grad." + w), filter.namedParameters().get(w).grad(), "gradient of " + w);
    }

    @Test
    void affBlocksMatchPyTorchInTrainingAndEvaluation() throws IOException {
        SafeTensors.Contents c = Fixtures.load("decoder/aff_block");
        Map<String, Tensor> t = c.tensors();
        for (String tag : List.of("widen", "same")) {
            Tensor x = t.get(tag + ".input").requiresGrad();
            int out = t.get(tag + ".train_output").dim(1);
            AffBlock block = new AffBlock(x.dim(1), out, affConfig(metaInt(c, "groups"), metaInt(c, "blocks"), metaInt(c, "factor")), new Philox(4));
            block.loadStateDict(Fixtures.under(t, tag + ".module."), true);
            block.train();
            Tensor y = block.forward(x);
            assertClose(t.get(tag + ".train_output"), y, tag + " training output");
            y.mul(t.get(tag + ".grad_output")).sum().backward();
            assertGradClose(t.get(tag + ".grad.input"), x.grad(), tag + " input gradient");
            checkGrads(c, tag + ".grad.", block.namedParameters());
            Map<String, Tensor> after = Fixtures.under(t, tag + ".after.");
            for (var e : block.namedBuffers().entrySet()) assertClose(after.get(e.getKey()), e.getValue().tensor(), tag + " " + e.getKey() + " after a step");
            block.eval();
            assertClose(t.get(tag + ".eval_output"), block.forward(x.detach()), tag + " evaluation output");
        }
    }

    @Test
    void cfwFusionMatchesPyTorch() throws IOException {
        SafeTensors.Contents c = Fixtures.load("decoder/cfw");
        Map<String, Tensor> t = c.tensors();
        var cfw = new CfwFusion(metaInt(c, "channels"), metaInt(c, "rrdb_blocks"), metaInt(c, "growth"), metaInt(c, "groups"), 1e-6f, new Philox(5));
        cfw.loadStateDict(Fixtures.under(t, "module."), true);
        Tensor lr = t.get("lr_features").requiresGrad(), dec = t.get("decoder_features").requiresGrad();
        Tensor y = cfw.forward(lr, dec, Float.parseFloat(Fixtures.meta(c, "w")));
        assertClose(t.get("output"), y, "CFW output");
        y.mul(t.get("grad_output")).sum().backward();
        assertGradClose(t.get("grad.lr_features"), lr.grad(), "gradient of the LR features");
        assertGradClose(t.get("grad.decoder_features"), dec.grad(), "gradient of the decoder features");
        checkGrads(c, "grad.", cfw.namedParameters());
    }

    /** The tiny model of fixture decoder/fc_tiny, loaded, in evaluation mode. */
    static FrequencyCompensatedVqModel tinyModel(SafeTensors.Contents c) {
        VqConfig config = Fixtures.vqConfig(c);
        var fc = new FrequencyDecoderConfig(metaInt(c, "rrdb_blocks"), metaInt(c, "growth"), 1f, metaInt(c, "context_blocks"),
                metaInt(c, "aff_groups"), 0.1f, metaInt(c, "filter_blocks"), metaInt(c, "filter_factor"), 0.01f);
        var model = new FrequencyCompensatedVqModel(config, fc, new Philox(6));
        var loaded = model.loadStateDict(Fixtures.under(c.tensors(), "module."), true);
        assertTrue(loaded.missingKeys().isEmpty() && loaded.unexpectedKeys().isEmpty());
        model.eval();
        return model;
    }

    @Test
    void frequencyCompensatedModelMatchesPyTorch() throws IOException {
        SafeTensors.Contents c = Fixtures.load("decoder/fc_tiny");
        Map<String, Tensor> t = c.tensors();
        FrequencyCompensatedVqModel model = tinyModel(c);
        model.freezeForStage2();
        assertEquals(Long.parseLong(Fixtures.meta(c, "trainable_parameters")), model.trainableParameterCount(), "stage-2 trainable parameters");

        List<Tensor> features = model.lrFeatures(t.get("lr_upscaled"));
        assertEquals(1, features.size());
        assertClose(t.get("lr_features"), features.get(0), "LR features (encoder level 1)");
        Tensor latent = t.get("latent").requiresGrad();
        Tensor out = model.decode(latent, features);
        assertClose(t.get("output"), out, "decoded image, w = 1");
        out.mul(t.get("grad_output")).sum().backward();
        assertGradClose(t.get("grad.latent"), latent.grad(), "latent gradient (straight through the quantiser)");
        Map<String, Parameter> params = model.namedParameters();
        checkGrads(c, "grad.", params);
        for (var e : params.entrySet()) {
            boolean trains = e.getKey().startsWith("decoder.fusion_layer_") || e.getKey().startsWith("decoder.unet_1.");
            if (trains) assertNotNull(e.getValue().grad(), e.getKey() + " trains in stage 2 and needs a gradient");
            else assertNull(e.getValue().grad(), e.getKey() + " is frozen in stage 2 and must get no gradient");
        }

        model.setFusionWeight(0.5f);
        assertClose(t.get("output_w05"), model.decode(t.get("latent"), features), "decoded image, w = 0.5");
    }

    @Test
    void forwardRunsFeatureExtractionAndDecodingTogether() throws IOException {
        SafeTensors.Contents c = Fixtures.load("decoder/fc_tiny");
        Map<String, Tensor> t = c.tensors();
        FrequencyCompensatedVqModel model = tinyModel(c);
        var r = model.forward(t.get("lr_upscaled"), t.get("latent"));
        assertClose(t.get("output"), r.image(), "forward");
        VectorQuantizer.Result q = model.quantizer().forward(t.get("latent"));
        assertClose(q.loss(), r.codebookLoss(), "quantiser loss");
    }
}
