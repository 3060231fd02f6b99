package dev.moesr.cudakernels;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.BackendProvider;
import dev.moesr.tensor.backend.Backends;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The provider on whatever machine runs the tests: found by ServiceLoader, and either usable or
 * saying why not (on a machine without a GPU: no driver) without throwing; device auto follows.
 */
class ProviderTest {
    @Test
    void serviceLoaderFindsTheCudaProvider() {
        List<BackendProvider> cuda = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) if (p.kind() == Device.Kind.CUDA) cuda.add(p);
        assertEquals(1, cuda.size(), "CUDA providers on the class path: " + cuda);
        assertTrue(cuda.get(0) instanceof CudaBackendProvider);
    }

    @Test
    void unavailableReasonIsASentenceOrNullAndNeverThrows() {
        String why = Backends.unavailableReason(Device.cuda(0));
        System.out.println("cuda:0 unavailable reason on this machine: " + why);
        if (why != null) {
            assertFalse(why.isBlank());
            // it says what to do: install something, or rebuild, or check the GPU
            assertTrue(why.matches("(?s).*(install|rebuild|check|add |driver).*"), "no advice in: " + why);
        }
        // asking twice gives the same answer (the probe runs once)
        assertEquals(why, Backends.unavailableReason(Device.cuda(0)));
    }

    @Test
    void aDeviceIndexBeyondTheMachineIsExplained() {
        String why = Backends.unavailableReason(Device.cuda(4096));
        assertTrue(why != null && !why.isBlank(), "cuda:4096 cannot exist");
    }

    @Test
    void autoFallsBackToTheCpuExactlyWhenCudaIsUnavailable() {
        String why = Backends.unavailableReason(Device.cuda(0));
        Device resolved = Backends.resolve(Device.AUTO);
        assertEquals(why == null ? Device.cuda(0) : Device.CPU, resolved, "reason: " + why);
        Tensor t = Tensor.ones(resolved, 2, 3);
        assertEquals(6f, t.sum().item());
    }

    @Test
    void usingCudaWithoutAGpuIsAClearErrorNotACrash() {
        String why = Backends.unavailableReason(Device.cuda(0));
        if (why == null) return;   // a GPU machine: the gpu-tagged tests cover this path
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tensor.zeros(Device.cuda(0), 4));
        assertTrue(e.getMessage().contains("cannot use cuda:0") && e.getMessage().contains(why), e.getMessage());
    }

    @Test
    void deviceNamesParse() {
        assertEquals(Device.CPU, Device.parse("cpu"));
        assertEquals(Device.AUTO, Device.parse(" AUTO "));
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(3), Device.parse("cuda:3"));
        assertEquals("cuda:3", Device.cuda(3).toString());
        for (String bad : new String[] {"gpu", "cuda:", "cuda:x", "cuda:-1", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse(bad), bad);
            assertTrue(e.getMessage().contains("auto, cpu, cuda or cuda:N") || e.getMessage().contains(">= 0"), e.getMessage());
        }
    }
}
