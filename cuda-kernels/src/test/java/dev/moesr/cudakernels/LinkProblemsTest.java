package dev.moesr.cudakernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The advice for each way loading the CUDA bindings fails, from errors shaped like JavaCPP's. */
class LinkProblemsTest {
    /** As JavaCPP throws it: "no jnicudart in java.library.path", caused by the dynamic linker's message. */
    private static Throwable javacpp(String lib, String linkerMessage) {
        UnsatisfiedLinkError cause = new UnsatisfiedLinkError(
                "/root/.javacpp/cache/cuda-13.1-9.19-1.5.13-linux-x86_64.jar/org/bytedeco/cuda/linux-x86_64/lib" + lib + ".so: " + linkerMessage);
        UnsatisfiedLinkError top = new UnsatisfiedLinkError("no " + lib + " in java.library.path: /usr/java/packages/lib:/usr/lib");
        top.initCause(cause);
        return top;
    }

    private static void says(Throwable t, String... parts) {
        String msg = LinkProblems.explain(t);
        for (String p : parts) assertTrue(msg.contains(p), "'" + p + "' missing from: " + msg);
    }

    @Test
    void missingDriver() {
        says(javacpp("jnicudart", "libcuda.so.1: cannot open shared object file: No such file or directory"),
                "no NVIDIA driver", "libcuda.so.1: cannot open shared object file", "580");
    }

    @Test
    void missingRuntime() {
        says(javacpp("jnicudart", "libcudart.so.13: cannot open shared object file: No such file or directory"),
                "CUDA 13 runtime", "libcudart.so.13", "LD_LIBRARY_PATH");
    }

    @Test
    void driverTooOld() {
        says(javacpp("jnicudart", "undefined symbol: cuCtxCreate_v4"), "too old", "580");
    }

    @Test
    void missingLibraries() {
        says(javacpp("jnicublas", "libcublasLt.so.13: cannot open shared object file: No such file or directory"), "cuBLAS", "nvidia-cublas");
        says(javacpp("jnicufft", "libcufft.so.12: cannot open shared object file: No such file or directory"), "cuFFT", "libcufft.so.12");
        says(javacpp("jnicudnn", "libcudnn_cnn.so.9: cannot open shared object file: No such file or directory"), "cuDNN 9", "nvidia-cudnn-cu13");
    }

    @Test
    void bindingsNotOnTheClassPath() {
        says(new NoClassDefFoundError("org/bytedeco/cuda/global/cudart"), "not on the class path", "org.bytedeco:cuda:13.1-9.19-1.5.13");
    }

    @Test
    void aClassThatFailedToInitialiseEarlierIsSaidSo() {
        ExceptionInInitializerError e = new ExceptionInInitializerError(
                "Exception java.lang.UnsatisfiedLinkError: no jnicudart in java.library.path: /usr/lib [in thread \"main\"]");
        Throwable wrapped = new NoClassDefFoundError("Could not initialize class org.bytedeco.cuda.global.cudart");
        wrapped.initCause(e);
        says(wrapped, "failed to load earlier", "no jnicudart");
    }

    @Test
    void jniLibraryAbsent() {
        says(new UnsatisfiedLinkError("no jnicudart in java.library.path: /usr/lib"), "native part", "linux-x86_64 jars");
    }

    @Test
    void anUnknownLinkerMessageIsPassedOn() {
        says(javacpp("jnicudart", "something new: nobody has seen this"), "could not be loaded", "something new");
    }
}
