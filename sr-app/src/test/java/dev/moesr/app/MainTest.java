package dev.moesr.app;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class MainTest {

    @Test
    void helpListsEveryCommand() {
        var r = CommandRunner.run("--help");
        assertEquals(0, r.code());
        for (String c : new String[] {"bench", "train", "infer", "eval", "degrade", "info"}) assertTrue(r.out().contains(c), c + " missing from:\n" + r.out());
    }

    @Test
    void commandLineMistakesGetOneLineAndExitCode2() {
        var r = CommandRunner.run("eval", "--no-such-option");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("eval --help"), r.err());
        var unknown = CommandRunner.run("frobnicate");
        assertEquals(2, unknown.code());
        assertEquals(1, unknown.err().strip().lines().count(), unknown.err());
    }
}
