package dev.moesr.tensor.backend;

import dev.moesr.tensor.Device;

/**
 * A device family found at run time with {@link java.util.ServiceLoader} (the CUDA backend lives
 * in another module, so tensor-core never loads a CUDA class on a machine without a GPU).
 */
public interface BackendProvider {

    Device.Kind kind();

    /**
     * Why this provider cannot serve {@code device} on this machine, in words a user can act on
     * (what is missing and what to install), or null when it can.
     */
    String unavailableReason(Device device);

    /** The backend for {@code device}; called only when {@link #unavailableReason} is null. */
    Backend open(Device device);
}
