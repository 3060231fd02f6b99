package dev.moesr.nn.layers;

import dev.moesr.nn.Sequential;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@SuppressWarnings("try")   // scopes in tests only bound a region
class StochasticLayersTest {

    @Test
    void dropoutZeroesAboutPAndScalesTheRest() {
        try (Scope s = Scope.open()) {
            float p = 0.3f;
            Dropout d = new Dropout(p, new Philox(4));
            Tensor x = Tensor.full(2f, 100, 100).requiresGrad();
            Tensor y = d.forward(x);
            float[] v = y.toFloatArray();
            int zeros = 0;
            for (float f : v) {
                if (f == 0) zeros++;
                else assertEquals(2f / (1 - p), f, 1e-6f);
            }
            double rate = zeros / (double) v.length;
            assertEquals(p, rate, 5 * Math.sqrt(p * (1 - p) / v.length), "dropped fraction");
            // the gradient is the same mask and scale
            y.sum().backward();
            float[] g = x.grad().toFloatArray();
            for (int i = 0; i < v.length; i++) assertEquals(v[i] / 2f, g[i], 1e-6f);
        }
    }

    @Test
    void dropoutIsReproducibleFromItsSeed() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.ones(64);
            float[] a = new Dropout(0.5f, new Philox(7)).forward(x).toFloatArray();
            float[] b = new Dropout(0.5f, new Philox(7)).forward(x).toFloatArray();
            assertArrayEquals(a, b);
        }
    }

    @Test
    void dropoutAndDropPathAreTheIdentityInEvaluation() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.ones(4, 3);
            Dropout d = new Dropout(0.9f, new Philox(1));
            d.eval();
            assertSame(x, d.forward(x));
            DropPath dp = new DropPath(0.9f, new Philox(1));
            dp.eval();
            assertSame(x, dp.forward(x));
            assertSame(x, new Dropout(0f, new Philox(1)).forward(x));
            assertArrayEquals(new float[12], new Dropout(1f, new Philox(1)).forward(x).toFloatArray());
        }
    }

    @Test
    void dropPathDropsWholeSamples() {
        try (Scope s = Scope.open()) {
            float p = 0.5f;
            DropPath dp = new DropPath(p, new Philox(3));
            int n = 400;
            float[] v = dp.forward(Tensor.ones(n, 2, 3)).toFloatArray();
            int dropped = 0;
            for (int i = 0; i < n; i++) {
                float first = v[i * 6];
                for (int j = 1; j < 6; j++) assertEquals(first, v[i * 6 + j], 0f, "sample " + i + " is kept or dropped as a whole");
                assertTrue(first == 0f || first == 2f, "kept samples are scaled by 1/(1-p): " + first);
                if (first == 0f) dropped++;
            }
            assertEquals(p, dropped / (double) n, 5 * Math.sqrt(p * (1 - p) / n));
        }
    }

    @Test
    void dropPathMasksFollowTheStreamSetLast() {
        try (Scope s = Scope.open()) {
            DropPath used = new DropPath(0.5f, new Philox(3));
            used.forward(Tensor.ones(64, 2));   // advances its own stream
            used.setRng(new Philox(11));
            float[] afterSet = used.forward(Tensor.ones(64, 2)).toFloatArray();
            float[] fresh = new DropPath(0.5f, new Philox(11)).forward(Tensor.ones(64, 2)).toFloatArray();
            assertArrayEquals(fresh, afterSet);
            assertThrows(IllegalArgumentException.class, () -> used.setRng(null));
        }
    }

    @Test
    void dropoutMasksFollowTheStreamSetLast() {
        try (Scope s = Scope.open()) {
            Dropout used = new Dropout(0.5f, new Philox(3));
            used.forward(Tensor.ones(64));   // advances its own stream
            used.setRng(new Philox(11));
            float[] afterSet = used.forward(Tensor.ones(64)).toFloatArray();
            float[] fresh = new Dropout(0.5f, new Philox(11)).forward(Tensor.ones(64)).toFloatArray();
            assertArrayEquals(fresh, afterSet);
            assertThrows(IllegalArgumentException.class, () -> used.setRng(null));
        }
    }

    @Test
    void reseedAllSetsOneStreamOnEveryStochasticLayerOfTheTree() {
        try (Scope s = Scope.open()) {
            // two nets with different construction streams give the same masks once reseeded alike
            float[][] outs = new float[2][];
            for (int n = 0; n < 2; n++) {
                Sequential net = new Sequential(new Dropout(0.5f, new Philox(100 + n)),
                        new Sequential(new DropPath(0.5f, new Philox(200 + n))), new Dropout(0.3f, new Philox(300 + n)));
                net.forward(Tensor.ones(32, 4));   // advance the construction streams differently
                assertEquals(3, Stochastic.reseedAll(net, new Philox(42)));
                outs[n] = net.forward(Tensor.ones(32, 4)).toFloatArray();
            }
            assertArrayEquals(outs[0], outs[1]);
            // and the layers draw one after another from the shared stream: it is what a manual walk gives
            Philox manual = new Philox(42);
            Dropout a = new Dropout(0.5f, manual);
            DropPath b = new DropPath(0.5f, manual);
            Dropout c = new Dropout(0.3f, manual);
            float[] expected = c.forward(b.forward(a.forward(Tensor.ones(32, 4)))).toFloatArray();
            assertArrayEquals(expected, outs[0]);
            assertEquals(0, Stochastic.reseedAll(new Sequential(), new Philox(1)));
            assertThrows(IllegalArgumentException.class, () -> Stochastic.reseedAll(new Sequential(), null));
        }
    }

    @Test
    void probabilitiesOutsideTheUnitIntervalAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.5f, new Philox(1)));
        assertThrows(IllegalArgumentException.class, () -> new DropPath(-0.1f, new Philox(1)));
    }
}
