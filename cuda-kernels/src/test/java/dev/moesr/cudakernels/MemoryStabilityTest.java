package dev.moesr.cudakernels;

import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Device memory stays flat: a small training loop (forward, backward, fused AdamW) holds the
 * same bytes after step 20 as after step 2 and stops calling cuMemAlloc, and thousands of small
 * ops in scopes leave nothing behind.
 */
@Tag("gpu")
class MemoryStabilityTest {

    @Test
    void trainingLoopHoldsItsMemoryFlat() {
        CudaBackend gpu = Gpu.backend();
        Philox rng = new Philox(2024);
        List<Tensor> params = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>();
        int[][] shapes = {{32, 64}, {64}, {64, 16}, {16}};
        try (Scope init = Scope.open()) {   // the unscaled draws go with this scope; the kept tensors are ours
            for (int[] s : shapes) {
                params.add(init.keep(Tensor.randn(rng, Gpu.CUDA, s).mul(0.1f)).requiresGrad());
                m.add(init.keep(Tensor.zeros(Gpu.CUDA, s)));
                v.add(init.keep(Tensor.zeros(Gpu.CUDA, s)));
            }
        }
        Tensor x = Tensor.randn(rng, Gpu.CUDA, 128, 32), y = Tensor.randn(rng, Gpu.CUDA, 128, 16);
        long afterStep2 = -1, allocsAfterStep2 = -1;
        float firstLoss = Float.NaN, lastLoss = Float.NaN;
        for (int step = 1; step <= 20; step++) {
            try (Scope s = Scope.open()) {
                Tensor h = x.matmul(params.get(0)).add(params.get(1)).silu();
                Tensor loss = h.matmul(params.get(2)).add(params.get(3)).sub(y).square().mean();
                loss.backward();
                for (int i = 0; i < params.size(); i++) {
                    Tensor p = params.get(i);
                    gpu.adamStep(p.storage(), p.grad().storage(), m.get(i).storage(), v.get(i).storage(), step, 1e-2f, 0.9f, 0.999f, 1e-8f, 0f, true);
                    p.zeroGrad();
                }
                float l = loss.item();
                if (step == 1) firstLoss = l;
                lastLoss = l;
            }
            if (step == 2) {
                afterStep2 = gpu.bytesInUse();
                allocsAfterStep2 = gpu.rawAllocations();
            }
        }
        assertEquals(afterStep2, gpu.bytesInUse(), "bytes in use after step 20 vs after step 2");
        assertEquals(allocsAfterStep2, gpu.rawAllocations(), "cuMemAlloc calls after step 2");
        assertTrue(lastLoss < firstLoss, "the loop trains: loss " + firstLoss + " -> " + lastLoss);
        for (List<Tensor> l : List.of(params, m, v)) l.forEach(Tensor::release);
        x.release();
        y.release();
    }

    @Test
    void thousandsOfSmallOpsLeaveNothingBehind() {
        CudaBackend gpu = Gpu.backend();
        long before = gpu.bytesInUse();
        Philox rng = new Philox(7);
        long allocsAfterWarmUp = 0;
        for (int round = 0; round < 200; round++) {
            try (Scope s = Scope.open()) {
                int n = 1 + round % 37;
                Tensor a = Tensor.rand(rng, Gpu.CUDA, n, 3), b = Tensor.randn(rng, Gpu.CUDA, 3);
                Tensor c = a.add(b).mul(a).exp().sum(1, true).sqrt();
                Tensor d = Tensor.cat(0, c, c.neg()).reshape(-1).max().add(a.mean());
                Tensor e = a.permute(1, 0).pad(new int[] {1, 1}, 0f).sub(1f).abs().sum(new int[] {0}, false);
                assertTrue(Float.isFinite(d.item()) && Float.isFinite(e.sum().item()));
            }
            if (round == 50) allocsAfterWarmUp = gpu.rawAllocations();
        }
        assertEquals(before, gpu.bytesInUse(), "every tensor of every scope went back");
        assertEquals(allocsAfterWarmUp, gpu.rawAllocations(), "after warm-up the cache serves every allocation");
    }
}
