/**
 * The CUDA backend (issue 3): {@link dev.moesr.cudakernels.CudaBackend} implements the tensor
 * library's {@link dev.moesr.tensor.backend.Backend} with our own kernels (native/*.cu, compiled
 * ahead of time into {@code kernels.fatbin} in this jar), cuBLAS, cuDNN and cuFFT, through the
 * JavaCPP CUDA presets. {@link dev.moesr.cudakernels.CudaBackendProvider} is found by
 * {@link java.util.ServiceLoader}; on a machine without a usable GPU it explains why instead of
 * failing. See docs/kernels.md.
 */
package dev.moesr.cudakernels;
