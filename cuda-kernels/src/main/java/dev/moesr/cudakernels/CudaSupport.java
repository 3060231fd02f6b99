package dev.moesr.cudakernels;

import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.cuda.global.cufft;
import org.bytedeco.javacpp.Loader;

import java.util.ArrayList;
import java.util.List;

import static org.bytedeco.cuda.global.cudart.CUDA_ERROR_NO_DEVICE;
import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static org.bytedeco.cuda.global.cudart.cuDeviceGet;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetAttribute;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetCount;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetName;
import static org.bytedeco.cuda.global.cudart.cuDriverGetVersion;
import static org.bytedeco.cuda.global.cudart.cuInit;

/**
 * Whether this machine can run the CUDA backend, and if not, why and what to install. Loads the
 * JavaCPP bindings once; every failure (a missing library, an old driver, no GPU, kernels not
 * built) becomes a sentence, never an exception. Callers catch LinkageError around it, for the
 * case where the bindings' jars are not on the class path at all.
 */
final class CudaSupport {
    /** CUDA 13.0 as cuDriverGetVersion reports it. */
    static final int MIN_DRIVER = 13000;
    /** Our fatbin has SASS for sm_80 and sm_90 and PTX for compute_90. */
    static final int MIN_COMPUTE_CAPABILITY = 80;

    private static boolean probed;
    private static String driverProblem;
    private static String libraryProblems;
    private static int deviceCount;
    private static final List<String> deviceNames = new ArrayList<>();
    private static final List<Integer> capabilities = new ArrayList<>();

    private CudaSupport() {}

    /** Null when CUDA device {@code index} can be used, else every reason it cannot, joined with "; ". */
    static synchronized String unavailableReason(int index) {
        if (!probed) {
            driverProblem = probeDriver();
            libraryProblems = driverProblem == null ? probeLibraries() : null;
            probed = true;
        }
        if (driverProblem != null) return driverProblem;
        List<String> problems = new ArrayList<>();
        if (index >= deviceCount) {
            problems.add("there is no CUDA device " + index + ": this machine has " + deviceCount + " " + deviceNames);
        } else if (capabilities.get(index) < MIN_COMPUTE_CAPABILITY) {
            int cc = capabilities.get(index);
            problems.add("CUDA device " + index + " (" + deviceNames.get(index) + ") has compute capability " + cc / 10 + "." + cc % 10
                    + "; the kernels are built for 8.0 and newer (A100, H100 and later)");
        }
        if (libraryProblems != null) problems.add(libraryProblems);
        if (Fatbin.loadResource() == null) {
            problems.add("the CUDA kernels were not built into this cuda-kernels jar (it was built with -Dnvcc.skip=true or without nvcc):"
                    + " rebuild it with the CUDA 13 toolkit's nvcc on the PATH");
        }
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    /** Driver API and runtime: loadable, new enough, and at least one device. */
    private static String probeDriver() {
        String platform = Loader.getPlatform();
        if (!"linux-x86_64".equals(platform)) {
            return "the CUDA bindings in use are packaged for linux-x86_64 only; this machine is " + platform;
        }
        try {
            Loader.load(cudart.class);
        } catch (Throwable t) {   // UnsatisfiedLinkError, ExceptionInInitializerError, NoClassDefFoundError
            return LinkProblems.explain(t);
        }
        int[] v = new int[1];
        if (cuDriverGetVersion(v) != CUDA_SUCCESS || v[0] < MIN_DRIVER) {
            return "the NVIDIA driver supports CUDA " + v[0] / 1000 + "." + v[0] % 1000 / 10
                    + " but CUDA 13 is needed: install a 580-series or newer driver";
        }
        int r = cuInit(0);
        if (r == CUDA_ERROR_NO_DEVICE) return noDevice();
        if (r != CUDA_SUCCESS) {
            return "the NVIDIA driver is installed but did not start (cuInit: " + CudaException.driverError(r)
                    + "); check nvidia-smi and that this process may use the GPU";
        }
        int[] count = new int[1];
        if (cuDeviceGetCount(count) != CUDA_SUCCESS || count[0] == 0) return noDevice();
        deviceCount = count[0];
        for (int i = 0; i < deviceCount; i++) {
            int[] dev = new int[1], major = new int[1], minor = new int[1];
            byte[] name = new byte[256];
            String label = "device " + i;
            int cc = 0;
            if (cuDeviceGet(dev, i) == CUDA_SUCCESS) {
                if (cuDeviceGetName(name, name.length, dev[0]) == CUDA_SUCCESS) label = cString(name);
                cuDeviceGetAttribute(major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev[0]);
                cuDeviceGetAttribute(minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev[0]);
                cc = major[0] * 10 + minor[0];
            }
            deviceNames.add(label);
            capabilities.add(cc);
        }
        return null;
    }

    private static String noDevice() {
        return "the NVIDIA driver sees no GPU (check nvidia-smi, CUDA_VISIBLE_DEVICES, and the container's GPU access)";
    }

    /** cuBLAS, cuFFT and cuDNN: each loadable. */
    private static String probeLibraries() {
        List<String> problems = new ArrayList<>();
        for (Class<?> c : new Class<?>[] {cublas.class, cufft.class, cudnn.class}) {
            try {
                Loader.load(c);
            } catch (Throwable t) {
                problems.add(LinkProblems.explain(t));
            }
        }
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }
}
