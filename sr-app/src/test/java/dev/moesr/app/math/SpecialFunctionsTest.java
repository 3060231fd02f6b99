package dev.moesr.app.math;

import dev.moesr.app.testing.Fixture;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class SpecialFunctionsTest {

    @Test
    void gammaAtIntegersIsTheFactorial() {
        double factorial = 1;
        for (int n = 1; n <= 20; n++) {
            assertEquals(factorial, SpecialFunctions.gamma(n), 1e-13 * factorial, "Gamma(" + n + ")");
            factorial *= n;
        }
    }

    @Test
    void gammaAtHalfIntegersAndSmallArguments() {
        double sqrtPi = Math.sqrt(Math.PI);
        assertEquals(sqrtPi, SpecialFunctions.gamma(0.5), 1e-14);
        assertEquals(sqrtPi / 2, SpecialFunctions.gamma(1.5), 1e-14);
        assertEquals(15 * sqrtPi / 8, SpecialFunctions.gamma(3.5), 1e-13);
        // Gamma(x) ~ 1/x - euler_gamma near 0; Gamma(0.1) = 9.513507698668732
        assertEquals(9.513507698668732, SpecialFunctions.gamma(0.1), 1e-12);
        assertEquals(Math.log(SpecialFunctions.gamma(7.25)), SpecialFunctions.logGamma(7.25), 1e-13);
        assertThrows(IllegalArgumentException.class, () -> SpecialFunctions.logGamma(0));
        assertThrows(IllegalArgumentException.class, () -> SpecialFunctions.logGamma(Double.NaN));
    }

    @Test
    void besselJ1MatchesScipy() {
        Fixture f = new Fixture("/degrade_fixture.txt");
        double[] x = f.doubles("j1_x"), y = f.doubles("j1_y");
        for (int i = 0; i < x.length; i++) assertEquals(y[i], SpecialFunctions.besselJ1(x[i]), 1e-14, "J1(" + x[i] + ")");
        assertThrows(IllegalArgumentException.class, () -> SpecialFunctions.besselJ1(Double.POSITIVE_INFINITY));
    }

    @Test
    void besselJ1IsOddAndSmallNearZero() {
        for (double x = 0.1; x < 50; x += 3.7) assertEquals(-SpecialFunctions.besselJ1(x), SpecialFunctions.besselJ1(-x), 1e-14);
        // J1(x) = x/2 - x^3/16 + ... for small x
        assertEquals(0.001 / 2 - 1e-9 / 16, SpecialFunctions.besselJ1(0.001), 1e-16);
    }
}
