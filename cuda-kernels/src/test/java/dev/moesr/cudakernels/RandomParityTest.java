package dev.moesr.cudakernels;

import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static dev.moesr.cudakernels.Gpu.assertBits;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The Philox streams through the Tensor API: the same seed gives bit-identical tensors on the
 * CPU and the GPU, for any size (also not a multiple of four) and any position in the stream.
 */
@Tag("gpu")
class RandomParityTest {
    static Stream<Long> seeds() { return Gen.seeds("cuda-philox-tensors", 10); }

    @BeforeEach
    void device() { Gpu.backend(); }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randAndRandnAreBitIdenticalAcrossDevices(long seed) {
        Gen g = new Gen(seed);
        long key = seed * 31 + 7;
        Philox cpuRng = new Philox(key), gpuRng = new Philox(key);
        try (Scope s = Scope.open()) {
            for (int draw = 0; draw < 4; draw++) {   // successive draws advance both streams alike
                int[] shape = g.shape(1, 3, 37);
                Tensor u = Tensor.rand(cpuRng, shape), ug = Tensor.rand(gpuRng, Gpu.CUDA, shape);
                assertBits("rand " + java.util.Arrays.toString(shape) + " draw " + draw, u.toFloatArray(), ug.toFloatArray());
                Tensor n = Tensor.randn(cpuRng, shape), ng = Tensor.randn(gpuRng, Gpu.CUDA, shape);
                assertBits("randn " + java.util.Arrays.toString(shape) + " draw " + draw, n.toFloatArray(), ng.toFloatArray());
                assertEquals(cpuRng.counter(), gpuRng.counter());
            }
        }
    }
}
