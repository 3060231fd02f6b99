package dev.moesr.app;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class InfoCommandTest {

    @Test
    void printsTheReferenceCountsOfTheReleasedModel() {
        var r = CommandRunner.run("info", "--config", "moesr-x8", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"unet (one Sampling expert)\": 428510243"), r.out());
        assertTrue(r.out().contains("\"unet without the Space-MoE layers\": 113622563"), r.out());
        assertTrue(r.out().contains("\"vq encoder\": 22337411"), r.out());
        assertTrue(r.out().contains("\"vq decoder\": 32960771"), r.out());
        var table = CommandRunner.run("info", "--config", "tiny");
        assertEquals(0, table.code());
        assertTrue(table.out().startsWith("tiny: 4x"), table.out());
    }

    @Test
    void unknownConfigurationsAreOneLineErrors() {
        var r = CommandRunner.run("info", "--config", "no-such-model");
        assertEquals(1, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("neither a preset"), r.err());
    }
}
