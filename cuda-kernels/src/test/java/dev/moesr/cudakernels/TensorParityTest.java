package dev.moesr.cudakernels;

import dev.moesr.tensor.Device;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.Function;
import java.util.stream.Stream;

import static dev.moesr.cudakernels.Gpu.TOL;
import static dev.moesr.cudakernels.Gpu.TOL_TF32;
import static dev.moesr.cudakernels.Gpu.assertClose;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Forward and backward through the Tensor API on cuda:0 against the CPU: the same seeded inputs
 * as leaves on each device, the same random weighting of the output into a scalar loss, then the
 * outputs and every leaf's gradient compared (relative error <= 1e-5 with TF32 off, <= 1e-3
 * with it on). Each case strings several ops together, so their backward functions, written
 * with Tensor ops, run on the GPU too.
 */
@Tag("gpu")
class TensorParityTest {
    private boolean tf32Before;

    static Stream<Long> seeds() { return Gen.seeds("cuda-tensor-parity", 6); }

    @BeforeEach
    void open() {
        Gpu.backend();
        tf32Before = CudaBackend.isTf32();
        CudaBackend.setTf32(false);
    }

    @AfterEach
    void restore() { CudaBackend.setTf32(tf32Before); }

    /** An input of a case: its values and shape, and whether it is a differentiable leaf. */
    private record Input(float[] values, int[] shape, boolean leaf) {}

    private static Input leaf(Gen g, double lo, double hi, int... shape) { return new Input(g.floats(Gen.numel(shape), lo, hi), shape, true); }

    private static Input constant(float[] values, int... shape) { return new Input(values, shape, false); }

    /** Runs f on both devices and compares the output and the gradients of the leaves. */
    private static void check(String name, long seed, double tol, Function<Tensor[], Tensor> f, Input... inputs) {
        try (Scope s = Scope.open()) {
            Tensor[] cpu = run(Device.CPU, seed, f, inputs);
            Tensor[] gpu = run(Gpu.CUDA, seed, f, inputs);
            assertClose(name + " forward (seed " + seed + ")", cpu[0], gpu[0].cpu(), tol);
            for (int i = 0; i < inputs.length; i++) {
                if (!inputs[i].leaf()) continue;
                assertNotNull(gpu[i + 1], name + ": no gradient for input " + i + " on the GPU");
                assertClose(name + " gradient of input " + i + " (seed " + seed + ")", cpu[i + 1], gpu[i + 1].cpu(), tol);
            }
        }
    }

    /** [output, grad of input 0, grad of input 1, ...] on {@code device}. */
    private static Tensor[] run(Device device, long seed, Function<Tensor[], Tensor> f, Input... inputs) {
        Tensor[] xs = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            xs[i] = Tensor.of(device, inputs[i].values(), inputs[i].shape());
            if (inputs[i].leaf()) xs[i].requiresGrad();
        }
        Tensor out = f.apply(xs);
        Gen wg = new Gen(seed ^ 0xABCDEFL);
        Tensor weights = Tensor.of(device, wg.floats((int) out.numel(), -1, 1), out.dims());
        out.mul(weights).sum().backward();
        Tensor[] result = new Tensor[inputs.length + 1];
        result[0] = out.detach();
        for (int i = 0; i < inputs.length; i++) result[i + 1] = inputs[i].leaf() ? xs[i].grad().copy() : null;
        return result;
    }

    private static float[] indices(Gen g, int n, int bound) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = g.nextInt(0, bound - 1);
        return v;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void elementwiseChainWithBroadcast(long seed) {
        Gen g = new Gen(seed);
        check("affine-silu-tanh-mse", seed, TOL,
                x -> x[0].mul(x[1]).add(x[2]).silu().tanh().sub(x[3]).square().mean(new int[] {1}, false),
                leaf(g, -2, 2, 4, 5, 6), leaf(g, -1, 1, 5, 1), leaf(g, -1, 1, 6), leaf(g, -1, 1, 4, 5, 6));
        check("gelu-softplus-where-clamp", seed, TOL,
                x -> Tensor.where(x[0].gt(x[1]), x[0].gelu(), x[1].softplus()).clamp(-0.5f, 1.5f).mul(x[0].exp().add(1f).log()),
                leaf(g, -3, 3, 3, 7), leaf(g, -3, 3, 7));
        check("div-pow-maximum-sqrt", seed, TOL,
                x -> x[0].div(x[1]).maximum(x[2]).add(x[1].pow(1.5f)).sqrt(),
                leaf(g, 0.5, 2, 2, 3, 4), leaf(g, 0.5, 2, 3, 1), leaf(g, 0.5, 2, 4));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void reductionsAndSoftmax(long seed) {
        Gen g = new Gen(seed);
        check("max-min-var-mean", seed, TOL,
                x -> x[0].max(1, true).add(x[0].min(0, false)).add(x[0].var(new int[] {0, 2}, true, 1)).mean(2, false),
                leaf(g, -4, 4, 5, 6, 7));
        check("softmax-logsoftmax", seed, TOL,
                x -> x[0].softmax(-1).mul(x[1]).add(x[0].logSoftmax(1)),
                leaf(g, -5, 5, 6, 33), leaf(g, -1, 1, 6, 33));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void matmulAttentionLike(long seed) {
        for (boolean tf32 : new boolean[] {false, true}) {
            CudaBackend.setTf32(tf32);
            Gen g = new Gen(seed);
            check("attention tf32=" + tf32, seed, tf32 ? TOL_TF32 : TOL,
                    x -> x[0].matmul(x[1].transpose(1, 2)).mul(0.125f).softmax(-1).matmul(x[2]),
                    leaf(g, -1, 1, 2, 9, 16), leaf(g, -1, 1, 2, 11, 16), leaf(g, -1, 1, 2, 11, 8));
            check("mlp tf32=" + tf32, seed, tf32 ? TOL_TF32 : TOL,
                    x -> x[0].matmul(x[1]).add(x[2]).gelu().matmul(x[3]),
                    leaf(g, -1, 1, 7, 20), leaf(g, -0.3, 0.3, 20, 40), leaf(g, -0.1, 0.1, 40), leaf(g, -0.3, 0.3, 40, 5));
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void convolutionAndPooling(long seed) {
        for (boolean tf32 : new boolean[] {false, true}) {
            CudaBackend.setTf32(tf32);
            Gen g = new Gen(seed);
            double tol = tf32 ? TOL_TF32 : TOL;
            check("conv-relu-maxpool tf32=" + tf32, seed, tol,
                    x -> x[0].conv2d(x[1], x[2], 1, 1).relu().maxPool2d(2, 2, 0),
                    leaf(g, -1, 1, 2, 3, 10, 10), leaf(g, -0.5, 0.5, 4, 3, 3, 3), leaf(g, -0.1, 0.1, 4));
            check("grouped dilated strided conv, avgpool tf32=" + tf32, seed, tol,
                    x -> x[0].conv2d(x[1], null, new int[] {2, 1}, new int[] {2, 1}, new int[] {2, 1}, 2).avgPool2d(3, 1, 1),
                    leaf(g, -1, 1, 1, 4, 11, 9), leaf(g, -0.5, 0.5, 6, 2, 3, 3));
            check("depthwise conv tf32=" + tf32, seed, tol,
                    x -> x[0].conv2d(x[1], null, 1, 1, 1, 3),
                    leaf(g, -1, 1, 2, 3, 8, 8), leaf(g, -0.5, 0.5, 3, 1, 3, 3));
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void indexingAndGather(long seed) {
        Gen g = new Gen(seed);
        check("index select with repeats", seed, TOL,
                x -> x[0].indexSelect(1, x[1]).square(),
                leaf(g, -2, 2, 3, 7, 4), constant(indices(g, 10, 7), 10));
        check("embedding", seed, TOL,
                x -> Tensor.embedding(x[0], x[1]).tanh(),
                leaf(g, -1, 1, 12, 5), constant(indices(g, 6, 12), 2, 3));
        check("gather (nll-like)", seed, TOL,
                x -> x[0].logSoftmax(1).gather(1, x[1]).neg().mean(),
                leaf(g, -3, 3, 8, 10), constant(indices(g, 8, 10), 8, 1));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void spectralOps(long seed) {
        Gen g = new Gen(seed);
        check("rfft2-abs (focal frequency style)", seed, TOL,
                x -> x[0].rfft2().abs().square().mean(new int[] {-1, -2}, false),
                leaf(g, -1, 1, 2, 3, 12, 10));
        // real and imaginary parts both reach the result, so neither input's gradient is zero in
        // exact arithmetic (a zero reference would turn float rounding into a huge relative error)
        check("fft2-ifft2-irfft2", seed, TOL,
                x -> {
                    Tensor round = Tensor.complex(x[0], x[1]).fft2().mul(2f).ifft2();
                    return round.real().add(round.imag().mul(0.5f)).add(x[0].rfft2().irfft2(9));
                },
                leaf(g, -1, 1, 2, 8, 9), leaf(g, -1, 1, 2, 8, 9));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void shapeOps(long seed) {
        Gen g = new Gen(seed);
        check("permute-cat-pad-slice", seed, TOL,
                x -> Tensor.cat(1, x[0].permute(0, 2, 1), x[1]).pad(new int[] {1, 2, 0, 1}, 0.5f).slice(2, 1, 4).expand(2, 10, 3),
                leaf(g, -1, 1, 1, 3, 4), leaf(g, -1, 1, 1, 5, 3));
        check("pixel shuffle, nearest upsampling", seed, TOL,
                x -> x[0].pixelShuffle(2).upsampleNearest(2).pixelUnshuffle(4),
                leaf(g, -1, 1, 1, 8, 3, 5));
    }
}
