package dev.moesr.nn;

import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@SuppressWarnings("try")   // scopes in tests only bound a region
class ModuleTest {

    @Test
    void dottedNamesFollowPyTorchOrder() {
        Toy.Net net = new Toy.Net(3);
        List<String> expected = List.of(
                "input_blocks.0.0.weight", "input_blocks.0.0.bias",
                "input_blocks.1.0.counter",
                "input_blocks.1.0.in_layers.0.weight", "input_blocks.1.0.in_layers.0.bias",
                "input_blocks.1.0.in_layers.2.weight", "input_blocks.1.0.in_layers.2.bias",
                "input_blocks.1.1.counter",
                "input_blocks.1.1.in_layers.0.weight", "input_blocks.1.1.in_layers.0.bias",
                "input_blocks.1.1.in_layers.2.weight", "input_blocks.1.1.in_layers.2.bias",
                "out.weight", "out.bias");
        assertEquals(expected, new ArrayList<>(net.stateDict().keySet()));
        List<String> params = new ArrayList<>(expected);
        params.removeIf(k -> k.endsWith("counter"));
        assertEquals(params, new ArrayList<>(net.namedParameters().keySet()));
        // the non-persistent buffer is a buffer but not part of the state dict
        assertTrue(net.namedBuffers().containsKey("input_blocks.1.0.scratch"));
        assertFalse(net.stateDict().containsKey("input_blocks.1.0.scratch"));
        assertTrue(net.namedModules().containsKey("input_blocks.1.1.in_layers.1"));
        assertSame(net, net.namedModules().get(""));
        net.release();
    }

    @Test
    void parameterCountAndTrainableCount() {
        Toy.Net net = new Toy.Net(3);
        assertEquals(6L * 2 * 3, net.parameterCount());   // six Affine layers of weight [3] + bias [3]
        net.out.setTrainable(false);
        assertEquals(5L * 2 * 3, net.trainableParameterCount());
        assertEquals(10, net.namedTrainableParameters().size());
        assertFalse(net.out.weight.tensor().needsGrad());
        net.release();
    }

    @Test
    void sharedParametersAreListedOnce() {
        Toy.Affine shared = new Toy.Affine(2, 1);
        Sequential s = new Sequential(shared, shared);
        assertEquals(List.of("0.weight", "0.bias"), new ArrayList<>(s.namedParameters().keySet()));
        assertEquals(4, s.parameterCount());
        shared.release();
    }

    @Test
    void trainAndEvalReachEveryDescendant() {
        Toy.Net net = new Toy.Net(2);
        assertTrue(net.isTraining());
        net.eval();
        for (Module m : net.namedModules().values()) assertFalse(m.isTraining());
        net.train();
        for (Module m : net.namedModules().values()) assertTrue(m.isTraining());
        net.release();
    }

    @Test
    void registrationRejectsBadAndDuplicateNames() {
        class Bad extends Module {
            void add(String name) { registerParameter(name, Tensor.zeros(1)); }
            void addChild(String name) { registerModule(name, new Toy.Affine(1, 0)); }
        }
        Bad b = new Bad();
        b.add("w");
        assertThrows(IllegalArgumentException.class, () -> b.add("w"));
        assertThrows(IllegalArgumentException.class, () -> b.add("a.b"));
        assertThrows(IllegalArgumentException.class, () -> b.add(""));
        var e = assertThrows(IllegalArgumentException.class, () -> b.addChild("w"));
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
    }

    @Test
    void zeroGradForgetsEveryGradient() {
        Toy.Net net = new Toy.Net(3);
        try (Scope s = Scope.open()) {
            net.forward(Tensor.of(new float[] {0.5f, -1, 2}, 3)).sum().backward();
        }
        for (Parameter p : net.parameters()) assertNotNull(p.grad(), "every parameter gets a gradient");
        net.zeroGrad();
        for (Parameter p : net.parameters()) assertNull(p.grad());
        net.release();
    }

    @Test
    void stateDictRoundTripWritesInPlace() {
        Toy.Net a = new Toy.Net(3);
        Toy.Net b = new Toy.Net(3);
        Tensor before = b.out.weight.tensor();
        InPlace.fill(a.out.weight.tensor(), 7f);
        InPlace.fill(a.inputBlocks.get(1).get(0).ownBuffer("counter").tensor(), 5f);
        Module.LoadResult r = b.loadStateDict(a.stateDict(), true);
        assertTrue(r.missingKeys().isEmpty() && r.unexpectedKeys().isEmpty());
        assertSame(before, b.out.weight.tensor(), "loading keeps the parameter tensor objects");
        for (var e : a.stateDict().entrySet()) {
            assertArrayEquals(e.getValue().toFloatArray(), b.stateDict().get(e.getKey()).toFloatArray(), e.getKey());
        }
        assertArrayEquals(new float[] {7, 7, 7}, b.out.weight.tensor().toFloatArray());
        assertTrue(b.out.weight.tensor().needsGrad(), "loaded parameters still require grad");
        a.release();
        b.release();
    }

    @Test
    void missingKeyNamesKeyAndShape() {
        Toy.Net net = new Toy.Net(3);
        Map<String, Tensor> sd = new LinkedHashMap<>(net.stateDict());
        sd.remove("out.bias");
        var e = assertThrows(IllegalArgumentException.class, () -> net.loadStateDict(sd, true));
        assertTrue(e.getMessage().contains("missing key 'out.bias'") && e.getMessage().contains("[3]"), e.getMessage());
        Module.LoadResult r = net.loadStateDict(sd, false);
        assertEquals(List.of("out.bias"), r.missingKeys());
        net.release();
    }

    @Test
    void unexpectedKeyNamesKeyAndShape() {
        Toy.Net net = new Toy.Net(3);
        Map<String, Tensor> sd = new LinkedHashMap<>(net.stateDict());
        Tensor extra = Tensor.zeros(4, 5);
        sd.put("out.extra", extra);
        var e = assertThrows(IllegalArgumentException.class, () -> net.loadStateDict(sd, true));
        assertTrue(e.getMessage().contains("unexpected key 'out.extra'") && e.getMessage().contains("[4, 5]"), e.getMessage());
        Module.LoadResult r = net.loadStateDict(sd, false);
        assertEquals(List.of("out.extra"), r.unexpectedKeys());
        extra.release();
        net.release();
    }

    @Test
    void shapeMismatchNamesBothShapesAndChangesNothing() {
        Toy.Net net = new Toy.Net(3);
        float[] before = net.out.bias.tensor().toFloatArray();
        Map<String, Tensor> sd = new LinkedHashMap<>();
        Toy.Net other = new Toy.Net(3);
        InPlace.fill(other.out.bias.tensor(), 9f);
        sd.putAll(other.stateDict());
        Tensor wrong = Tensor.zeros(2, 3);
        sd.put("out.weight", wrong);
        // shape mismatches are errors even when not strict, and nothing is written
        var e = assertThrows(IllegalArgumentException.class, () -> net.loadStateDict(sd, false));
        assertTrue(e.getMessage().contains("'out.weight'") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3]"), e.getMessage());
        assertArrayEquals(before, net.out.bias.tensor().toFloatArray());
        wrong.release();
        other.release();
        net.release();
    }

    @Test
    void replacingAListEntryKeepsItsName() {
        ModuleList<Toy.Affine> list = new ModuleList<>(new Toy.Affine(2, 0), new Toy.Affine(2, 0));
        Toy.Affine old = list.get(1);
        list.set(1, new Toy.Affine(2, 10));
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias"), new ArrayList<>(list.stateDict().keySet()));
        assertArrayEquals(new float[] {10, 11}, list.stateDict().get("1.weight").toFloatArray());
        assertThrows(IndexOutOfBoundsException.class, () -> list.set(2, new Toy.Affine(2, 0)));
        old.release();
        list.release();
    }

    @Test
    void releaseFreesEveryStateTensor() {
        Toy.Net net = new Toy.Net(2);
        List<Tensor> all = new ArrayList<>(net.stateDict().values());
        net.release();
        for (Tensor t : all) assertTrue(t.isReleased());
    }

    @Test
    void keepInMovesStateOutOfAScope() {
        Toy.Net net;
        try (Scope s = Scope.open()) {
            net = new Toy.Net(2);
            net.keepIn(s);
        }
        for (Tensor t : net.stateDict().values()) assertFalse(t.isReleased());
        Toy.Net lost;
        try (Scope s = Scope.open()) {
            lost = new Toy.Net(2);
        }
        for (Tensor t : lost.stateDict().values()) assertTrue(t.isReleased(), "a model built in a scope dies with it unless kept");
        net.release();
    }

    @Test
    void movingToTheDeviceItIsOnKeepsTheTensors() {
        Toy.Net net = new Toy.Net(2);
        Tensor w = net.out.weight.tensor();
        assertSame(net, net.to(dev.moesr.tensor.Device.CPU));
        assertSame(w, net.out.weight.tensor());
        assertTrue(w.needsGrad());
        net.release();
    }

    @Test
    void buffersMustNotRequireGrad() {
        Tensor t = Tensor.zeros(2).requiresGrad();
        assertThrows(IllegalArgumentException.class, () -> new Buffer(t));
        t.release();
    }

    @Test
    void assignChecksShapes() {
        Toy.Affine a = new Toy.Affine(3, 0);
        var e = assertThrows(IllegalArgumentException.class, () -> a.weight.assign(new float[] {1, 2}));
        assertTrue(e.getMessage().contains("[3]"), e.getMessage());
        a.weight.assign(new float[] {4, 5, 6});
        assertArrayEquals(new float[] {4, 5, 6}, a.weight.tensor().toFloatArray());
        a.release();
    }

    /** Runs {@code exp(2x + 1)} as one block of a forward pass. */
    static final class ExpBlock extends Module {
        Tensor forward(Tensor x) { return block(() -> x.mul(2f).add(1f).exp()); }
    }

    @Test
    @SuppressWarnings("try")
    void aBlockFreesItsTemporariesUnlessAGraphRunsThroughIt() {
        Tensor x = Tensor.of(new float[] {0.5f, -1f, 2f}, 3);
        try (Scope s = Scope.open()) {
            new ExpBlock().forward(x);            // grad mode on, but nothing needs a gradient (a frozen part)
            assertEquals(1, s.size(), "only the block's result stays");
        }
        x.requiresGrad(true);
        try (Scope s = Scope.open()) {
            Tensor y = new ExpBlock().forward(x);
            assertEquals(3, s.size(), "2x and 2x + 1 stay for backward, with the result");
            y.sum().backward();
            float[] g = x.grad().toFloatArray();
            for (int i = 0; i < 3; i++) {
                float xi = x.toFloatArray()[i];
                assertEquals(2 * Math.exp(2.0 * xi + 1), g[i], 1e-5 * Math.exp(2.0 * xi + 1));
            }
        }
    }
}
