package dev.moesr.nn.layers;

import dev.moesr.nn.Init;
import dev.moesr.tensor.Philox;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InitTest {

    /** Values within [-bound, bound], spread like a uniform: mean near 0, variance near bound^2/3, extremes near the bound. */
    private static void assertUniform(float[] v, double bound, String what) {
        double sum = 0, sq = 0, max = 0;
        for (float x : v) {
            assertTrue(Math.abs(x) <= bound, what + ": " + x + " outside +-" + bound);
            sum += x;
            sq += x * x;
            max = Math.max(max, Math.abs(x));
        }
        int n = v.length;
        double mean = sum / n, var = sq / n - mean * mean;
        // standard error of the mean of U(-b, b) is b / sqrt(3n); allow 5 of them
        assertEquals(0, mean, 5 * bound / Math.sqrt(3.0 * n), what + " mean");
        assertEquals(bound * bound / 3, var, 0.05 * bound * bound / 3 + 5 * bound * bound / Math.sqrt(n), what + " variance");
        assertTrue(max > 0.95 * bound, what + ": largest |value| " + max + " should reach near " + bound);
    }

    @Test
    void linearUsesPyTorchDefaultBounds() {
        Linear lin = new Linear(64, 300, new Philox(3));
        double bound = 1 / Math.sqrt(64);
        assertUniform(lin.weight().tensor().toFloatArray(), bound, "Linear weight");
        float[] b = lin.bias().tensor().toFloatArray();
        for (float x : b) assertTrue(Math.abs(x) <= bound, "Linear bias " + x);
        lin.release();
    }

    @Test
    void convFanInCountsGroupsAndKernel() {
        assertEquals(8 / 2 * 3 * 3, Init.fanIn(16, 4, 3, 3));
        Conv2d conv = new Conv2d(8, 64, 3, 1, 1, 1, 2, true, new Philox(5));
        double bound = 1 / Math.sqrt(4 * 9);
        assertUniform(conv.weight().tensor().toFloatArray(), bound, "Conv2d weight");
        for (float x : conv.bias().tensor().toFloatArray()) assertTrue(Math.abs(x) <= bound, "Conv2d bias " + x);
        conv.release();
    }

    @Test
    void theSameSeedGivesTheSameModel() {
        Linear a = new Linear(5, 7, new Philox(11)), b = new Linear(5, 7, new Philox(11)), c = new Linear(5, 7, new Philox(12));
        assertArrayEquals(a.weight().tensor().toFloatArray(), b.weight().tensor().toFloatArray());
        assertArrayEquals(a.bias().tensor().toFloatArray(), b.bias().tensor().toFloatArray());
        assertFalse(java.util.Arrays.equals(a.weight().tensor().toFloatArray(), c.weight().tensor().toFloatArray()));
        a.release();
        b.release();
        c.release();
    }

    @Test
    void normsStartAsTheIdentityMap() {
        GroupNorm gn = new GroupNorm(2, 4);
        LayerNorm ln = new LayerNorm(3);
        BatchNorm2d bn = new BatchNorm2d(2);
        assertArrayEquals(new float[] {1, 1, 1, 1}, gn.weight().tensor().toFloatArray());
        assertArrayEquals(new float[] {0, 0, 0, 0}, gn.bias().tensor().toFloatArray());
        assertArrayEquals(new float[] {1, 1, 1}, ln.weight().tensor().toFloatArray());
        assertArrayEquals(new float[] {0, 0, 0}, ln.bias().tensor().toFloatArray());
        assertArrayEquals(new float[] {0, 0}, bn.runningMean().tensor().toFloatArray());
        assertArrayEquals(new float[] {1, 1}, bn.runningVar().tensor().toFloatArray());
        assertEquals(0f, bn.numBatchesTracked().tensor().item());
        gn.release();
        ln.release();
        bn.release();
    }

    @Test
    void embeddingIsStandardNormal() {
        Embedding e = new Embedding(200, 50, new Philox(9));
        float[] v = e.weight().tensor().toFloatArray();
        double sum = 0, sq = 0;
        for (float x : v) {
            sum += x;
            sq += x * x;
        }
        double mean = sum / v.length, var = sq / v.length - mean * mean;
        assertEquals(0, mean, 5 / Math.sqrt(v.length));
        assertEquals(1, var, 0.05);
        e.release();
    }
}
