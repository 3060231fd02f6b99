package dev.moesr.tensor.cpu;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The portable log and sin/cos against the JDK's (whose results are within 1 ulp of exact). */
class PortableMathTest {

    private static void assertUlps(double expected, double got, double ulps, String what) {
        double err = Math.abs(got - expected) / Math.ulp(expected);
        assertTrue(err <= ulps, what + ": got " + got + ", JDK " + expected + " (" + err + " ulp apart)");
    }

    @Test
    void logIsAccurateOnTheBoxMullerGrid() {
        // every u1 = k / 2^24 the normal stream can use near both ends, and a sample in between
        for (int k = 1; k <= 4096; k++) {
            double u = k * 0x1p-24, v = 1 - (k - 1) * 0x1p-24;
            assertUlps(Math.log(u), PortableMath.log(u), 2, "log(" + u + ")");
            if (v != 1) assertUlps(Math.log(v), PortableMath.log(v), 2, "log(" + v + ")");
        }
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 50_000; i++) {
            double u = (r.nextInt(1 << 24) + 1) * 0x1p-24;
            if (u != 1) assertUlps(Math.log(u), PortableMath.log(u), 2, "log(" + u + ")");
        }
        assertEquals(0.0, PortableMath.log(1.0));
    }

    @Test
    void logIsAccurateOverTheWholeRange() {
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < 100_000; i++) {
            double x = Math.exp(r.nextDouble(-700, 700)) * r.nextDouble(0.5, 2);
            if (Math.abs(x - 1) > 1e-3) assertUlps(Math.log(x), PortableMath.log(x), 2, "log(" + x + ")");
        }
        for (double x : new double[] {Double.MIN_VALUE, Double.MIN_NORMAL, Double.MAX_VALUE, 2, 0.5, Math.E, 1 + 0x1p-52, 1 - 0x1p-53}) {
            assertUlps(Math.log(x), PortableMath.log(x), 2, "log(" + x + ")");
        }
        assertTrue(Double.isNaN(PortableMath.log(0)) && Double.isNaN(PortableMath.log(-1))
                && Double.isNaN(PortableMath.log(Double.NaN)) && Double.isNaN(PortableMath.log(Double.POSITIVE_INFINITY)));
    }

    @Test
    void sinAndCosOfTurnsAreAccurate() {
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 50_000; i++) {
            double u = i < 4096 ? i * 0x1p-12 : r.nextInt(1 << 24) * 0x1p-24;
            // the JDK reference carries the rounding of 2*pi*u: about 1 ulp of 2*pi*u in absolute terms
            double angleErr = Math.ulp(2 * Math.PI * u);
            double s = Math.sin(2 * Math.PI * u), c = Math.cos(2 * Math.PI * u);
            double gs = PortableMath.sin2pi(u), gc = PortableMath.cos2pi(u);
            assertTrue(Math.abs(gs - s) <= 4 * Math.ulp(s) + 2 * angleErr, "sin(2 pi " + u + "): " + gs + " vs " + s);
            assertTrue(Math.abs(gc - c) <= 4 * Math.ulp(c) + 2 * angleErr, "cos(2 pi " + u + "): " + gc + " vs " + c);
        }
    }

    @Test
    void quarterTurnsAreExact() {
        assertEquals(0.0, PortableMath.sin2pi(0));
        assertEquals(1.0, PortableMath.cos2pi(0));
        assertEquals(1.0, PortableMath.sin2pi(0.25));
        assertEquals(0.0, Math.abs(PortableMath.cos2pi(0.25)));
        assertEquals(-1.0, PortableMath.cos2pi(0.5));
        assertEquals(-1.0, PortableMath.sin2pi(0.75));
        assertEquals(PortableMath.sin2pi(0.1875), PortableMath.sin2pi(3.1875), 0.0, "whole turns are removed exactly");
        assertEquals(-PortableMath.sin2pi(0.1), PortableMath.sin2pi(-0.1), 0.0, "sin is odd");
    }
}
