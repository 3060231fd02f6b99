package dev.moesr.tensor.backend;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.cpu.CpuBackend;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/** Finds the backend for a device: the CPU one built in, others through {@link BackendProvider}. */
public final class Backends {
    private static final Map<Device, Backend> OPEN = new ConcurrentHashMap<>();
    private static volatile boolean autoFallbackReported;

    private Backends() {}

    private static final Backend CPU = ProfilingBackend.maybeWrap(CpuBackend.INSTANCE);

    public static Backend cpu() { return CPU; }

    /** The backend of a concrete device or of {@code auto}; a clear error when it cannot be used. */
    public static Backend get(Device device) {
        Device d = resolve(device);
        if (d.kind() == Device.Kind.CPU) return cpu();
        return OPEN.computeIfAbsent(d, Backends::open);
    }

    /**
     * Turns {@code auto} into CUDA device 0 when it can be used and into the CPU otherwise,
     * saying once on stderr why the GPU was not taken. Concrete devices are returned as they are.
     */
    public static Device resolve(Device device) {
        if (device.kind() != Device.Kind.AUTO) return device;
        Device gpu = Device.cuda(0);
        String why = unavailableReason(gpu);
        if (why == null) return gpu;
        if (!autoFallbackReported) {
            autoFallbackReported = true;
            System.err.println("moesr: device auto -> cpu (" + why + ")");
        }
        return Device.CPU;
    }

    /** Null when the device can be used, else the reason and what to do about it. */
    public static String unavailableReason(Device device) {
        if (device.kind() == Device.Kind.CPU) return null;
        BackendProvider p = provider(device.kind());
        if (p == null) {
            return "no " + device.kind() + " backend on the class path: add the cuda-kernels module (dev.moesr:cuda-kernels) to use " + device;
        }
        return p.unavailableReason(device);
    }

    private static Backend open(Device d) {
        String why = unavailableReason(d);
        if (why != null) throw new IllegalStateException("cannot use " + d + ": " + why);
        return ProfilingBackend.maybeWrap(provider(d.kind()).open(d));
    }

    private static BackendProvider provider(Device.Kind kind) {
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            if (p.kind() == kind) return p;
        }
        return null;
    }
}
