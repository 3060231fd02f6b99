package dev.moesr.nn.optim;

import dev.moesr.nn.InPlace;
import dev.moesr.nn.Module;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@SuppressWarnings("try")   // scopes in tests only bound a region
class EmaTest {
    @TempDir Path dir;

    @Test
    void decayFollowsTheLdmWarmUpRule() {
        Quadratic q = new Quadratic();
        Ema ema = new Ema(q, 0.9999);
        // n counts this update: (1 + n) / (10 + n) until it reaches the cap
        for (long n = 1; n <= 50; n++) {
            double expected = Math.min(0.9999, (1.0 + n) / (10.0 + n));
            assertEquals(expected, ema.update(), 0.0, "update " + n);
            assertEquals(n, ema.numUpdates());
        }
        // with a cap of 0.5 the ramp (1 + n) / (10 + n) rules up to n = 8 (9/18) and the cap from n = 9 (10/19 > 0.5)
        Ema capped = new Ema(q, 0.5);
        for (long n = 1; n <= 8; n++) assertEquals((1.0 + n) / (10.0 + n), capped.update(), 0.0, "update " + n);
        assertEquals(0.5, capped.update(), 0.0);
        assertEquals(0.5, capped.update(), 0.0);
        ema.release();
        capped.release();
        q.release();
    }

    @Test
    void shadowsFollowTheRuleInDouble() {
        Quadratic q = new Quadratic();
        Ema ema = new Ema(q, 0.7);
        Adam adam = new Adam(q.namedParameters(), 0.1);
        double[] shadow = Quadratic.start();
        for (int step = 1; step <= 8; step++) {
            adam.zeroGrad();
            q.backward();
            adam.step();
            double d = Math.min(0.7, (1.0 + step) / (10.0 + step));
            double[] p = q.values();
            for (int i = 0; i < p.length; i++) shadow[i] -= (1 - d) * (shadow[i] - p[i]);
            ema.update();
        }
        float[] sa = ema.shadow("a").toFloatArray(), sb = ema.shadow("b").toFloatArray();
        double[] got = {sa[0], sa[1], sa[2], sa[3], sb[0], sb[1]};
        for (int i = 0; i < got.length; i++) assertEquals(shadow[i], got[i], 1e-6, "element " + i);
        adam.release();
        ema.release();
        q.release();
    }

    @Test
    void withoutNumUpdatesTheDecayIsConstant() {
        Quadratic q = new Quadratic();
        Ema ema = new Ema(q, 0.9, false);
        assertEquals(0.9, ema.update(), 0.0);
        assertEquals(0.9, ema.update(), 0.0);
        assertEquals(-1, ema.numUpdates());
        ema.release();
        q.release();
    }

    @Test
    void shadowWeightsSwapInAndBack() {
        Quadratic q = new Quadratic();
        Ema ema = new Ema(q, 0.5, false);
        InPlace.fill(q.a.tensor(), 3f);
        ema.update();   // shadow a = 0.5 * a0 + 0.5 * 3
        float[] shadowA = ema.shadow("a").toFloatArray();
        try (var swapped = ema.useShadowWeights()) {
            assertArrayEquals(shadowA, q.a.tensor().toFloatArray());
        }
        assertArrayEquals(new float[] {3, 3, 3, 3}, q.a.tensor().toFloatArray(), "training weights are back");
        assertArrayEquals(shadowA, ema.shadow("a").toFloatArray(), "and the shadows too");
        ema.copyTo();
        assertArrayEquals(shadowA, q.a.tensor().toFloatArray());
        ema.release();
        q.release();
    }

    @Test
    void stateDictUsesLdmNamesAndRestoresTheCounter() throws IOException {
        class Holder extends Module {
            final Ema ema;

            Holder(Module model) { ema = registerModule("model_ema", new Ema(model, 0.9999)); }
        }
        Quadratic q = new Quadratic();
        Holder h = new Holder(q);
        for (int i = 0; i < 3; i++) h.ema.update();
        assertEquals(List.of("model_ema.decay", "model_ema.num_updates", "model_ema.a", "model_ema.b"), new ArrayList<>(h.stateDict().keySet()));
        Path p = dir.resolve("ema.safetensors");
        h.save(p, Map.of());

        Holder fresh = new Holder(q);
        fresh.load(p);
        assertEquals(3, fresh.ema.numUpdates());
        assertEquals(0.9999, fresh.ema.decay(), 0.0);
        assertEquals(Math.min(0.9999, 5.0 / 14.0), fresh.ema.nextDecay(), 0.0);
        h.release();
        fresh.release();
        q.release();
    }

    @Test
    void namesThatCollideWithoutDotsAreRefused() {
        class Leaf extends Module {
            Leaf(String name) { registerParameter(name, Tensor.zeros(1)); }
        }
        class Clash extends Module {
            Clash() {
                registerModule("a", new Leaf("bc"));
                registerModule("ab", new Leaf("c"));
            }
        }
        Clash c = new Clash();
        var e = assertThrows(IllegalArgumentException.class, () -> new Ema(c, 0.9));
        assertTrue(e.getMessage().contains("abc") && e.getMessage().contains("a.bc") && e.getMessage().contains("ab.c"), e.getMessage());
        c.release();
    }

    @Test
    void frozenParametersAreNotTracked() {
        Quadratic q = new Quadratic();
        q.b.setTrainable(false);
        Ema ema = new Ema(q, 0.9);
        assertThrows(IllegalArgumentException.class, () -> ema.shadow("b"));
        try (Scope s = Scope.open()) {
            assertEquals(List.of("decay", "num_updates", "a"), new ArrayList<>(ema.stateDict().keySet()));
        }
        ema.release();
        q.release();
    }
}
