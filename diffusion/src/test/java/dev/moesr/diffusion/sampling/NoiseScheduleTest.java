package dev.moesr.diffusion.sampling;

import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.*;

class NoiseScheduleTest {

    private static void assertClose(double[] expected, double[] got, double rtol, String what) {
        assertEquals(expected.length, got.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], rtol * Math.abs(expected[i]) + 1e-15, what + " at " + i);
        }
    }

    @Test
    void linearScheduleMatchesTheReferenceCode() throws IOException {
        ScheduleFixture f = new ScheduleFixture();
        NoiseSchedule s = NoiseSchedule.ldmLinear();
        double[] betas = new double[1000], ac = new double[1000];
        for (int t = 0; t < 1000; t++) {
            betas[t] = s.beta(t);
            ac[t] = s.alphaCumprod(t);
        }
        assertClose(f.get("betas"), betas, 1e-12, "beta");
        assertClose(f.get("alphas_cumprod"), ac, 1e-11, "alpha cumprod");
    }

    @ParameterizedTest
    @CsvSource({"200, 1.0", "50, 0.0", "20, 0.5"})
    void samplingPlanMatchesTheReferenceCode(int steps, double eta) throws IOException {
        ScheduleFixture f = new ScheduleFixture();
        SamplingPlan p = SamplingPlan.uniform(NoiseSchedule.ldmLinear(), steps, eta);
        String tag = "plan_" + steps + "_" + eta;
        double[] ts = new double[steps], a = new double[steps], ap = new double[steps], s = new double[steps];
        for (int i = 0; i < steps; i++) {
            ts[i] = p.timestep(i);
            a[i] = p.alpha(i);
            ap[i] = p.alphaPrev(i);
            s[i] = p.sigma(i);
        }
        assertClose(f.get(tag + "_timesteps"), ts, 0, "timesteps");
        assertClose(f.get(tag + "_alphas"), a, 1e-11, "alphas");
        assertClose(f.get(tag + "_alphas_prev"), ap, 1e-11, "alphas_prev");
        assertClose(f.get(tag + "_sigmas"), s, 1e-9, "sigmas");
    }

    @Test
    void twoHundredStepsVisitOneSixElevenToNineNinetySix() {
        SamplingPlan p = SamplingPlan.uniform(NoiseSchedule.ldmLinear(), 200, 1);
        assertEquals(1, p.timestep(0));
        assertEquals(6, p.timestep(1));
        assertEquals(996, p.timestep(199));
    }

    @Test
    void theFullScheduleVisitsEveryTimestepFromZero() {
        SamplingPlan p = SamplingPlan.uniform(NoiseSchedule.ldmLinear(), 1000, 1);
        assertEquals(0, p.timestep(0));
        assertEquals(999, p.timestep(999));
        for (int i = 0; i < 1000; i++) assertTrue(Double.isFinite(p.sigma(i)), "sigma " + i);
    }

    @Test
    void badPlansAreRefusedWithAReason() {
        NoiseSchedule s = NoiseSchedule.ldmLinear();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SamplingPlan.uniform(s, 300, 1)).getMessage().contains("divide"));
        assertThrows(IllegalArgumentException.class, () -> SamplingPlan.uniform(s, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> SamplingPlan.uniform(s, 50, -1));
        assertThrows(IllegalArgumentException.class, () -> s.alphaCumprod(1000));
    }

    @Test
    void addNoiseUsesEachElementsTimestep() {
        NoiseSchedule s = NoiseSchedule.ldmLinear();
        Tensor z0 = Tensor.of(new float[] {1, 1, 2, 2}, 2, 2);
        Tensor noise = Tensor.of(new float[] {0.5f, -0.5f, 1, 0}, 2, 2);
        float[] zt = s.addNoise(z0, noise, new int[] {0, 999}).toFloatArray();
        double a0 = s.alphaCumprod(0), a1 = s.alphaCumprod(999);
        assertEquals(Math.sqrt(a0) + Math.sqrt(1 - a0) * 0.5, zt[0], 1e-6);
        assertEquals(Math.sqrt(a0) - Math.sqrt(1 - a0) * 0.5, zt[1], 1e-6);
        assertEquals(2 * Math.sqrt(a1) + Math.sqrt(1 - a1), zt[2], 1e-6);
        assertEquals(2 * Math.sqrt(a1), zt[3], 1e-6);
    }

    @Test
    void deterministicDdimStepInvertsTheForwardProcessGivenTheTrueNoise() {
        // with eta = 0 and the exact noise, one step from z_t lands on the forward process at t_prev
        NoiseSchedule s = NoiseSchedule.ldmLinear();
        SamplingPlan p = SamplingPlan.uniform(s, 50, 0);
        DdimSampler sampler = new DdimSampler(p);
        Tensor z0 = Tensor.of(new float[] {0.3f, -1.2f, 0.7f}, 3);
        Tensor eps = Tensor.of(new float[] {1.1f, 0.2f, -0.4f}, 3);
        int i = 10;
        Tensor zt = z0.mul((float) Math.sqrt(p.alpha(i))).add(eps.mul((float) Math.sqrt(1 - p.alpha(i))));
        float[] got = sampler.step(zt, eps, i, null).toFloatArray();
        float[] z0v = z0.toFloatArray(), ev = eps.toFloatArray();
        for (int k = 0; k < 3; k++) {
            double expected = Math.sqrt(p.alphaPrev(i)) * z0v[k] + Math.sqrt(1 - p.alphaPrev(i)) * ev[k];
            assertEquals(expected, got[k], 1e-5);
        }
    }
}
