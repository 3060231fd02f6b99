package dev.moesr.cudakernels;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.BackendProvider;

import java.util.HashMap;
import java.util.Map;

/**
 * Registers the CUDA backend with {@link dev.moesr.tensor.backend.Backends} (through
 * META-INF/services). Touches no CUDA class until asked, and never throws from
 * {@link #unavailableReason}: a machine without a GPU, driver, library or built kernels gets a
 * sentence saying what is missing and what to install.
 */
public final class CudaBackendProvider implements BackendProvider {
    private static final Map<Integer, CudaBackend> OPEN = new HashMap<>();

    @Override public Device.Kind kind() { return Device.Kind.CUDA; }

    @Override public String unavailableReason(Device device) {
        if (device.kind() != Device.Kind.CUDA) return "the CUDA provider serves cuda devices, not " + device;
        try {
            return CudaSupport.unavailableReason(device.index());
        } catch (LinkageError e) {   // the bindings' jars are missing, or a native library failed in a new way
            return LinkProblems.explain(e);
        } catch (RuntimeException e) {
            return "probing CUDA failed: " + e;
        }
    }

    @Override public Backend open(Device device) {
        String why = unavailableReason(device);
        if (why != null) throw new IllegalStateException("cannot use " + device + ": " + why);
        synchronized (OPEN) {
            return OPEN.computeIfAbsent(device.index(), CudaBackend::new);
        }
    }
}
