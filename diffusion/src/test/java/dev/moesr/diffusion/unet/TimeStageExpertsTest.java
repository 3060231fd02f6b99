package dev.moesr.diffusion.unet;

import dev.moesr.diffusion.sampling.DdimSampler;
import dev.moesr.diffusion.sampling.NoiseSchedule;
import dev.moesr.diffusion.sampling.SamplingPlan;
import dev.moesr.diffusion.sampling.TimeStageExperts;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;
import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The four time-stage Sampling experts: which expert serves which timestep, the condition, files, and a sampler run. */
@SuppressWarnings("try")   // scopes in tests only bound a region
class TimeStageExpertsTest {
    private static TimeStageExperts experts;

    @BeforeAll static void build() {
        experts = TimeStageExperts.create(UNetConfig.tiny(), new Philox(1));
        for (int k = 0; k < experts.count(); k++) Reference.randomise(experts.expert(k), new Gen(100 + k));
        experts.eval();
    }

    @AfterAll static void free() { experts.release(); }

    @ParameterizedTest(name = "t {0} -> expert {1}")
    @CsvSource({"0, 0", "1, 0", "249, 0", "250, 1", "499, 1", "500, 2", "749, 2", "750, 3", "996, 3", "999, 3"})
    void expertKServesTimestepsFromTwoHundredFiftyKOn(int t, int k) {
        assertEquals(k, experts.expertIndex(t));
        assertSame(experts.expert(k), experts.expertFor(t));
        int[] stage = experts.stage(k);
        assertTrue(stage[0] <= t && t < stage[1], "t " + t + " lies in the stage " + stage[0] + ".." + stage[1] + " of expert " + k);
    }

    @Test
    void stagesCoverTheScheduleAndBadTimestepsAreRefused() {
        assertEquals(4, experts.count());
        assertEquals(250, experts.stageLength());
        assertArrayEquals(new int[] {750, 1000}, experts.stage(3));
        assertThrows(IllegalArgumentException.class, () -> experts.expertIndex(-1));
        assertThrows(IllegalArgumentException.class, () -> experts.expertIndex(1000));
        assertThrows(IllegalArgumentException.class, () -> experts.expert(4));
        IllegalArgumentException uneven = assertThrows(IllegalArgumentException.class,
                () -> new TimeStageExperts(List.of(experts.expert(0), experts.expert(1), experts.expert(2)), 1000));
        assertTrue(uneven.getMessage().contains("equal stages"), uneven.getMessage());
    }

    @Test
    void theExpertOfTheStageDenoisesTheLatentWithTheConditionAppended() {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            Tensor zt = Tensor.randn(new Philox(2), 2, 3, 8, 8);
            Tensor lr = Tensor.randn(new Philox(3), 2, 3, 8, 8);
            Tensor input = Tensor.cat(1, zt, lr);
            for (int t : new int[] {10, 260, 600, 990}) {
                float[] got = experts.predictNoise(zt, lr, t).toFloatArray();
                for (int k = 0; k < 4; k++) {
                    float[] byK = experts.expert(k).forward(input, t).toFloatArray();
                    if (k == experts.expertIndex(t)) assertArrayEquals(byK, got, "t " + t + " is served by expert " + k);
                    else assertFalse(java.util.Arrays.equals(byK, got), "t " + t + " is not served by expert " + k);
                }
            }
        }
    }

    @Test
    void conditionsOfTheWrongShapeAreExplained() {
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            Tensor zt = Tensor.zeros(1, 3, 8, 8);
            IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> experts.predictNoise(zt, Tensor.zeros(1, 3, 16, 16), 5));
            assertTrue(size.getMessage().contains("resize the LR image"), size.getMessage());
            IllegalArgumentException channels = assertThrows(IllegalArgumentException.class, () -> experts.predictNoise(zt, Tensor.zeros(1, 1, 8, 8), 5));
            assertTrue(channels.getMessage().contains("takes 6"), channels.getMessage());
            assertThrows(IllegalArgumentException.class, () -> experts.predictNoise(zt, null, 5), "no condition for a conditional UNet");
            assertThrows(IllegalArgumentException.class, () -> experts.predictNoise(zt, Tensor.zeros(2, 3, 8, 8), 5), "batch");
        }
    }

    @Test
    void eachExpertSavesAndLoadsItsOwnStateDict(@TempDir Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            files.add(dir.resolve("expert-" + k + ".safetensors"));
            experts.saveExpert(k, files.get(k));
        }
        TimeStageExperts fresh = TimeStageExperts.create(UNetConfig.tiny(), new Philox(99));
        fresh.loadExpert(2, files.get(2));
        assertStateEquals(experts.expert(2), fresh.expert(2));
        IllegalArgumentException wrongStage = assertThrows(IllegalArgumentException.class, () -> fresh.loadExpert(1, files.get(2)));
        assertTrue(wrongStage.getMessage().contains("expert 2"), wrongStage.getMessage());

        TimeStageExperts loaded = TimeStageExperts.load(files, 1000);
        for (int k = 0; k < 4; k++) assertStateEquals(experts.expert(k), loaded.expert(k));
        loaded.eval();
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            Tensor zt = Tensor.randn(new Philox(4), 1, 3, 8, 8), lr = Tensor.randn(new Philox(5), 1, 3, 8, 8);
            assertArrayEquals(experts.predictNoise(zt, lr, 777).toFloatArray(), loaded.predictNoise(zt, lr, 777).toFloatArray());
        }

        TimeStageExperts other = TimeStageExperts.create(UNetConfig.tiny().withSpaceExperts(2), 4, 1000, new Philox(6));
        IllegalArgumentException config = assertThrows(IllegalArgumentException.class, () -> other.loadExpert(0, files.get(0)));
        assertTrue(config.getMessage().contains("holds a UNet of"), config.getMessage());
        fresh.release();
        loaded.release();
        other.release();
    }

    private static void assertStateEquals(UNet expected, UNet got) {
        for (var e : expected.stateDict().entrySet()) {
            assertArrayEquals(e.getValue().toFloatArray(), got.stateDict().get(e.getKey()).toFloatArray(), e.getKey());
        }
    }

    @Test
    void aSamplerRunVisitsEveryStageAndIsReproducible() {
        // 4 steps of 1000 visit t = 1, 251, 501, 751: one step per expert
        SamplingPlan plan = SamplingPlan.uniform(NoiseSchedule.ldmLinear(), 4, 1.0);
        int[] served = new int[4];
        for (int i = 0; i < plan.steps(); i++) served[experts.expertIndex(plan.timestep(i))]++;
        assertArrayEquals(new int[] {1, 1, 1, 1}, served);
        DdimSampler sampler = new DdimSampler(plan);
        try (Scope s = Scope.open()) {
            Tensor lr = Tensor.randn(new Philox(7), 1, 3, 8, 8);
            long before = Backends.cpu().bytesInUse();
            Tensor a = sampler.sample(experts, lr, new int[] {1, 3, 8, 8}, new Philox(8), null);
            assertEquals(before + a.numel() * 4, Backends.cpu().bytesInUse(), "the run keeps only its result");
            Tensor b = sampler.sample(experts, lr, new int[] {1, 3, 8, 8}, new Philox(8), null);
            assertArrayEquals(a.toFloatArray(), b.toFloatArray(), "same seed, same sample");
            for (float v : a.toFloatArray()) assertTrue(Float.isFinite(v));
        }
    }
}
