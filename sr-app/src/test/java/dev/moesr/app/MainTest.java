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

    @Test
    void theRelaunchKeepsAUsersHeapAndCollectorChoices() {
        for (String a : new String[] {"-Xmx8g", "-XX:MaxHeapSize=8g", "-XX:MaxRAMPercentage=50", "-XX:MaxRAM=16g"}) assertTrue(Main.setsHeapSize(a), a);
        for (String a : new String[] {"-Xms1g", "-Xss4m", "-XX:+UseNUMA", "-Dx=-Xmx"}) assertFalse(Main.setsHeapSize(a), a);
        for (String a : new String[] {"-XX:+UseG1GC", "-XX:+UseZGC", "-XX:+UseSerialGC", "-XX:+UseParallelGC"}) assertTrue(Main.choosesCollector(a), a);
        for (String a : new String[] {"-XX:+UseNUMA", "-XX:+UseStringDeduplication", "-Xmx4g"}) assertFalse(Main.choosesCollector(a), a);
    }
}
