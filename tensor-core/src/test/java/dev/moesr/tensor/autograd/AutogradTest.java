package dev.moesr.tensor.autograd;

import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class AutogradTest {

    @Test
    void gradientsAccumulateAcrossBackwardCalls() {
        Tensor x = Tensor.of(new float[] {1, 2, 3}, 3).requiresGrad();
        x.mul(x).sum().backward();
        assertArrayEquals(new float[] {2, 4, 6}, x.grad().toFloatArray());
        x.mul(3f).sum().backward();
        assertArrayEquals(new float[] {5, 7, 9}, x.grad().toFloatArray());
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void sharedSubexpressionsSumTheirGradients() {
        Tensor x = Tensor.of(new float[] {2}, 1).requiresGrad();
        Tensor y = x.mul(x);          // x^2
        y.add(y).add(x).sum().backward(); // 2x^2 + x -> 4x + 1
        assertArrayEquals(new float[] {9}, x.grad().toFloatArray());
    }

    @Test
    void detachAndNoGradRecordNothing() {
        Tensor x = Tensor.ones(2).requiresGrad();
        assertFalse(x.detach().needsGrad());
        try (GradMode off = GradMode.off()) {
            Tensor y = x.mul(2f);
            assertFalse(y.needsGrad());
            assertNull(y.gradFn());
        }
        assertTrue(x.mul(2f).needsGrad());
    }

    @Test
    void backwardNeedsAScalarOrAGradient() {
        Tensor x = Tensor.ones(2).requiresGrad();
        assertThrows(IllegalStateException.class, () -> x.mul(2f).backward());
        Tensor y = x.mul(2f);
        y.backward(Tensor.of(new float[] {1, 10}, 2));
        assertArrayEquals(new float[] {2, 20}, x.grad().toFloatArray());
        assertThrows(IllegalStateException.class, () -> Tensor.ones(1).backward());
    }

    @Test
    void deepChainsDoNotOverflowTheStack() {
        Tensor x = Tensor.ones(1).requiresGrad();
        Tensor y = x;
        for (int i = 0; i < 20000; i++) y = y.add(1f);
        y.sum().backward();
        assertEquals(1f, x.grad().item());
    }

    @Test
    void scopeReleasesWhatItMadeButKeepsWhatIsKept() {
        long before = Backends.cpu().bytesInUse();
        Tensor kept;
        Tensor dropped;
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.ones(1000);
            dropped = a.mul(2f);
            kept = s.keep(a.add(1f));
        }
        assertTrue(dropped.isReleased());
        assertThrows(IllegalStateException.class, dropped::toFloatArray);
        assertEquals(2f, kept.toFloatArray()[0]);
        assertEquals(before + 4000, Backends.cpu().bytesInUse());
        kept.release();
        assertEquals(before, Backends.cpu().bytesInUse());
        Backends.cpu().resetPeakBytes();   // a new phase starts its peak from what is live now
        assertEquals(before, Backends.cpu().peakBytes());
    }

    @Test
    void leafGradientsOutliveTheScopeOfBackward() {
        Tensor w = Tensor.ones(3).requiresGrad();
        try (Scope s = Scope.open()) {
            w.mul(w).sum().backward();
        }
        assertArrayEquals(new float[] {2, 2, 2}, w.grad().toFloatArray());
    }

    @Test
    void memoryStaysFlatOverATrainingLoop() {
        Tensor w = Tensor.ones(64).requiresGrad();
        long[] inUse = new long[21];
        for (int step = 1; step <= 20; step++) {
            try (Scope s = Scope.open()) {
                w.zeroGrad();
                w.mul(w).mul(0.5f).sum().backward();
                try (GradMode off = GradMode.off()) {
                    Tensor updated = w.sub(w.grad().mul(0.01f));
                    float[] v = updated.toFloatArray();
                    Tensor nw = Tensor.of(v, 64);
                    s.keep(nw);
                    w.release();
                    w = nw.requiresGrad();
                }
            }
            inUse[step] = Backends.cpu().bytesInUse();
        }
        assertEquals(inUse[2], inUse[20]);
    }

    @Test
    void nestedScopesMustCloseInOrder() {
        Scope outer = Scope.open();
        Scope inner = Scope.open();
        assertThrows(IllegalStateException.class, outer::close);
        inner.close();
        outer.close();
    }

    @Test
    @SuppressWarnings("try")
    void backwardHoldsTheGradientsOfOneFrontierNotOfTheWholeGraph() {
        int n = 1 << 16, depth = 30;
        Tensor x = Tensor.full(0.01f, n).requiresGrad();
        try (Scope s = Scope.open()) {
            Tensor y = x;
            for (int i = 0; i < depth; i++) y = y.mul(1.01f).tanh();   // 60 saved activations of n floats
            Tensor loss = y.sum();
            Backends.cpu().resetPeakBytes();
            long before = Backends.cpu().bytesInUse();
            loss.backward();
            long extra = Backends.cpu().peakBytes() - before, one = 4L * n;
            // a gradient per node kept to the end would be 60 x n floats; the leaf's gradient is one
            assertTrue(extra <= 6 * one, "backward's peak above the forward: " + extra / one + " tensors of n floats");
            // and the gradient is right: d/dx of 30 nested tanh(1.01 x)
            double v = 0.01, d = 1;
            for (int i = 0; i < depth; i++) {
                v = Math.tanh(1.01 * v);
                d *= 1.01 * (1 - v * v);
            }
            assertEquals(d, x.grad().toFloatArray()[n - 1], 1e-4 * Math.abs(d));
        } finally {
            x.release();
        }
    }

    @Test
    void aGradientHandedToSeveralInputsIsReleasedOnlyWhenAllHaveUsedIt() {
        // add hands the same gradient tensor to both of its inputs; each goes on through its own node
        Tensor x = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad();
        Tensor a = x.mul(2f), b = x.mul(3f);
        a.add(b).add(x).sum().backward();          // d/dx (2x + 3x + x) = 6
        assertArrayEquals(new float[] {6f, 6f}, x.grad().toFloatArray());
        Tensor y = Tensor.of(new float[] {0.5f, -1f}, 2).requiresGrad();
        y.add(y).mul(y).sum().backward();           // d/dy (2y * y) = 4y
        assertArrayEquals(new float[] {2f, -4f}, y.grad().toFloatArray());
        Tensor seed = Tensor.of(new float[] {1f, 10f}, 2);
        Tensor z = Tensor.of(new float[] {3f, 4f}, 2).requiresGrad();
        z.mul(2f).backward(seed);                   // a gradient from the caller is never released by backward
        assertFalse(seed.isReleased());
        assertArrayEquals(new float[] {2f, 20f}, z.grad().toFloatArray());
    }

    @Test
    void gradGivesGradientsWithoutTouchingGradAndRunsOnlyThePathToItsInputs() {
        Tensor w = Tensor.of(new float[] {0.5f, -2f}, 2).requiresGrad();
        Tensor a = Tensor.of(new float[] {1f, 3f}, 2).requiresGrad();
        // a branch whose backward must not run: it cannot reach w
        Tensor offPath = Tensor.of(new float[] {7f, 7f}, 2).recordedAs("off-path", g -> {
            throw new AssertionError("a node off every path to the inputs ran");
        }, a.mul(2f));
        Tensor y = w.mul(w).mul(3f).add(offPath).sum();     // dy/dw = 6w
        Tensor[] g = Autograd.grad(y, w);
        assertArrayEquals(new float[] {3f, -12f}, g[0].toFloatArray());
        assertNull(w.grad(), "grad() changed");
        Tensor unused = Tensor.of(new float[] {1f}, 1).requiresGrad();
        assertArrayEquals(new float[] {0f}, Autograd.grad(w.sum(), unused)[0].toFloatArray(), "an input the root does not use");
        // the graph is still whole: a later backward runs every node, the off-path one included
        assertThrows(AssertionError.class, y::backward);
        Tensor z = w.mul(w).mul(3f).sum();
        Tensor first = Autograd.grad(z, w)[0];
        w.zeroGrad();   // whatever the interrupted backward above accumulated
        z.backward();
        assertArrayEquals(first.toFloatArray(), w.grad().toFloatArray(), "grad() and backward() agree on the same graph");
    }
}
