package dev.moesr.cudakernels;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns the errors of loading the CUDA bindings (UnsatisfiedLinkError and friends, whose causes
 * carry the dynamic linker's message) into what is missing and what to install. Pure text, so
 * it is tested on machines without a GPU.
 */
final class LinkProblems {
    private LinkProblems() {}

    static final String INSTALL_DRIVER = "install the NVIDIA driver, 580 series or newer (CUDA 13 needs it), "
            + "or run on the CPU (device cpu or auto)";
    static final String BINDINGS = "org.bytedeco:cuda:13.1-9.19-1.5.13 and org.bytedeco:javacpp:1.5.13, each with its linux-x86_64 jar";

    /** What is missing, and what to install, given the error of loading a part of the CUDA bindings. */
    static String explain(Throwable t) {
        String all = messages(t);
        String lower = all.toLowerCase(Locale.ROOT);
        if (lower.contains("libcuda.so")) {
            return "no NVIDIA driver: libcuda.so.1 cannot be loaded (" + firstLine(all, "libcuda.so") + "); " + INSTALL_DRIVER;
        }
        if (lower.contains("undefined symbol: cu") && !lower.contains("undefined symbol: cublas")
                && !lower.contains("undefined symbol: cufft") && !lower.contains("undefined symbol: cudnn")) {
            return "the NVIDIA driver is too old for CUDA 13 (" + firstLine(all, "undefined symbol") + "); "
                    + "install a 580-series or newer driver";
        }
        if (lower.contains("libcudart.so")) {
            return "the CUDA 13 runtime (libcudart.so.13) is missing: install the CUDA 13 toolkit or runtime "
                    + "(apt: cuda-cudart-13-0; pip: nvidia-cuda-runtime) and put its lib directory "
                    + "(e.g. /usr/local/cuda/lib64) on LD_LIBRARY_PATH";
        }
        if (lower.contains("libcublas")) {
            return "cuBLAS for CUDA 13 (libcublas.so.13, libcublasLt.so.13) is missing: install it "
                    + "(apt: libcublas-13-0; pip: nvidia-cublas) and put its lib directory on LD_LIBRARY_PATH";
        }
        if (lower.contains("libcufft")) {
            return "cuFFT for CUDA 13 (libcufft.so.12) is missing: install it "
                    + "(apt: libcufft-13-0; pip: nvidia-cufft) and put its lib directory on LD_LIBRARY_PATH";
        }
        if (lower.contains("libcudnn")) {
            return "cuDNN 9 for CUDA 13 (libcudnn*.so.9) is missing: install it "
                    + "(apt: libcudnn9-cuda-13; pip: nvidia-cudnn-cu13) and put its lib directory on LD_LIBRARY_PATH";
        }
        if (lower.contains("libstdc++") || lower.contains("glibc") || lower.contains("version `")) {
            return "the CUDA bindings need a newer C/C++ runtime than this system has (" + firstLine(all, "") + ")";
        }
        if (lower.contains("could not initialize class")) {
            return "the CUDA bindings failed to load earlier in this process (" + firstLine(all, "exception") + ")";
        }
        if (t instanceof NoClassDefFoundError && lower.contains("org/bytedeco")) {
            return "the CUDA bindings are not on the class path: add " + BINDINGS;
        }
        if (lower.contains("no jni") && !lower.contains(".so: ")) {   // no linker message: the JNI library itself was not found
            return "the native part of the CUDA bindings is not on the class path (" + firstLine(all, "no jni")
                    + "): add the linux-x86_64 jars of " + BINDINGS;
        }
        return "the CUDA bindings could not be loaded: " + firstLine(all, "");
    }

    /** The messages of t and its causes, one per line, innermost last. */
    static String messages(Throwable t) {
        List<String> lines = new ArrayList<>();
        for (Throwable x = t; x != null && lines.size() < 10; x = x.getCause()) {
            lines.add(x.getClass().getSimpleName() + ": " + x.getMessage());
        }
        return String.join("\n", lines);
    }

    /** The first line that mentions {@code key} (any line when key is empty), trimmed to its useful end. */
    private static String firstLine(String all, String key) {
        String[] lines = all.split("\n");
        // the innermost cause names the real problem; look there first
        for (int i = lines.length - 1; i >= 0; i--) {
            if (key.isEmpty() || lines[i].toLowerCase(Locale.ROOT).contains(key.toLowerCase(Locale.ROOT))) return shorten(lines[i]);
        }
        return shorten(lines[lines.length - 1]);
    }

    private static String shorten(String line) {
        // "/root/.javacpp/cache/.../libjnicudart.so: libcuda.so.1: cannot open shared object file: ..." -> from the library name on
        int colon = line.indexOf(".so: ");
        String s = colon >= 0 ? line.substring(colon + 5) : line;
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
