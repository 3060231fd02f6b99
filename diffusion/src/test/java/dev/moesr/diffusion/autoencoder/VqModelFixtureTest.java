package dev.moesr.diffusion.autoencoder;

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
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tiny VQ model against the PyTorch reference (fixture autoencoder/vq_tiny): every stage, the loss and gradients. */
class VqModelFixtureTest {
    private Scope scope;

    @BeforeEach void open() { scope = Scope.open(); }

    @AfterEach void close() { scope.close(); }

    @Test
    void encodeQuantizeDecodeAndGradientsMatchPyTorch() throws IOException {
        SafeTensors.Contents c = Fixtures.load("autoencoder/vq_tiny");
        Map<String, Tensor> t = c.tensors();
        VqModel model = new VqModel(Fixtures.vqConfig(c), new Philox(1));
        var result = model.loadStateDict(Fixtures.under(t, "module."), true);
        assertTrue(result.missingKeys().isEmpty() && result.unexpectedKeys().isEmpty());

        Tensor x = t.get("input").requiresGrad();
        Tensor latent = model.encode(x);
        assertClose(t.get("latent"), latent, "pre-quantisation latent");
        VectorQuantizer.Result q = model.quantize(latent);
        assertArrayEquals(t.get("indices").toFloatArray(), q.indices().toFloatArray(), "codebook indices");
        assertClose(t.get("quantized"), q.quantized(), "quantised latent");
        assertClose(t.get("qloss"), q.loss(), "quantiser loss");
        Tensor rec = model.decodeQuantized(q.quantized());
        assertClose(t.get("reconstruction"), rec, "reconstruction");

        rec.mul(t.get("grad_output")).sum().add(q.loss()).backward();
        assertGradClose(t.get("grad.input"), x.grad(), "input gradient");
        Map<String, Parameter> params = model.namedParameters();
        for (String name : Fixtures.metaList(c, "grad_names")) {
            assertGradClose(t.get("grad." + name), params.get(name).grad(), "gradient of " + name);
        }
    }

    @Test
    void decodeQuantisesFirstAndCodesDecodeTheSame() throws IOException {
        SafeTensors.Contents c = Fixtures.load("autoencoder/vq_tiny");
        Map<String, Tensor> t = c.tensors();
        VqModel model = new VqModel(Fixtures.vqConfig(c), new Philox(1));
        model.loadStateDict(Fixtures.under(t, "module."), true);
        Tensor latent = t.get("latent");
        assertClose(t.get("reconstruction"), model.decode(latent), "decode of the unquantised latent");
        assertClose(t.get("reconstruction"), model.decodeCodes(t.get("indices")), "decode of the code indices");
        VqModel.Reconstruction r = model.forward(t.get("input"));
        assertClose(t.get("reconstruction"), r.image(), "forward");
        assertEquals(t.get("qloss").item(), r.codebookLoss().item(), 1e-4 * t.get("qloss").item());
    }

    @Test
    void levelFeaturesAreTheActivationsAfterEachLevelsBlocks() throws IOException {
        SafeTensors.Contents c = Fixtures.load("autoencoder/vq_tiny");
        VqConfig config = Fixtures.vqConfig(c);
        VqModel model = new VqModel(config, new Philox(1));
        model.loadStateDict(Fixtures.under(c.tensors(), "module."), true);
        Tensor x = c.tensors().get("input");
        List<Tensor> f = model.encoder().levelFeatures(x, 0, 1);
        assertArrayEquals(new int[] {2, config.width(0), 12, 16}, f.get(0).dims());
        assertArrayEquals(new int[] {2, config.width(1), 6, 8}, f.get(1).dims());
        // the deepest level's features feed the middle block: same values as a second call asking only for it
        assertClose(f.get(1), model.encoder().levelFeatures(x, 1).get(0), "level 1 features");
    }
}
