package dev.moesr.tensor.ops;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.Storage;

import java.util.Arrays;

/**
 * Group, layer and batch normalisation. Group norm (optionally fused with SiLU) is one backend
 * kernel with its own backward; layer and batch norm are composed from differentiable tensor ops
 * (autograd and every backend come with them), with two-pass statistics: the mean is subtracted
 * before the squares are summed, so large offsets do not cancel catastrophically.
 */
public final class Norms {
    private Norms() {}

    /**
     * GroupNorm over an [N, C, *] input: each of {@code groups} channel groups of each sample is
     * normalised (population variance, eps inside the square root), then scaled by weight and
     * shifted by bias per channel (either may be null). One fused backend kernel, forward and
     * backward (see {@link dev.moesr.tensor.backend.Backend#groupNorm}).
     */
    public static Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return fusedGroupNorm(x, groups, weight, bias, eps, false);
    }

    /** {@code silu(groupNorm(x, groups, weight, bias, eps))} in one kernel, without the intermediate tensor. */
    public static Tensor groupNormSilu(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return fusedGroupNorm(x, groups, weight, bias, eps, true);
    }

    private static Tensor fusedGroupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu) {
        String op = silu ? "groupNormSilu" : "groupNorm";
        requireBatched(x, op);
        int n = x.dim(0), c = x.dim(1);
        if (groups < 1 || c % groups != 0) {
            throw new IllegalArgumentException(op + ": " + c + " channels of input " + x.shape() + " do not split into " + groups + " groups");
        }
        requireChannelVector(weight, "weight", c, x);
        requireChannelVector(bias, "bias", c, x);
        long spatial = spatialSize(x);
        Backend be = x.backend();
        Tensor out = Tensor.empty(be, DType.F32, x.dims());
        Tensor mean = Tensor.empty(be, DType.F32, n, groups), rstd = Tensor.empty(be, DType.F32, n, groups);
        if (out.numel() > 0) {
            be.groupNorm(x.storage(), n, c, spatial, groups, storageOf(weight), storageOf(bias), eps, silu,
                    out.storage(), mean.storage(), rstd.storage());
        }
        out.recordedAs(op, g -> {
            Tensor gx = x.needsGrad() ? Tensor.empty(be, DType.F32, x.dims()) : null;
            Tensor gw = weight != null && weight.needsGrad() ? Tensor.empty(be, DType.F32, c) : null;
            Tensor gb = bias != null && bias.needsGrad() ? Tensor.empty(be, DType.F32, c) : null;
            be.groupNormBackward(g.storage(), x.storage(), mean.storage(), rstd.storage(), storageOf(weight), storageOf(bias),
                    n, c, spatial, groups, silu, storageOf(gx), storageOf(gw), storageOf(gb));
            return new Tensor[] {gx, gw, gb};
        }, x, weight, bias);
        if (!out.needsGrad()) {   // nothing will run the backward: the statistics can go now
            mean.release();
            rstd.release();
        }
        return out;
    }

    private static Storage storageOf(Tensor t) { return t == null ? null : t.storage(); }

    /** LayerNorm over the trailing dimensions {@code normalizedShape}; weight and bias have that shape or are null. */
    public static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, float eps) {
        Elementwise.requireReal(x, "layerNorm");
        int k = normalizedShape.length;
        boolean fits = k >= 1 && k <= x.rank();
        for (int i = 0; fits && i < k; i++) fits = x.dim(x.rank() - k + i) == normalizedShape[i];
        if (!fits) {
            throw new IllegalArgumentException("layerNorm: normalized shape " + Arrays.toString(normalizedShape)
                    + " must be the trailing dimensions of the input " + x.shape());
        }
        for (Tensor p : new Tensor[] {weight, bias}) {
            if (p != null && !Arrays.equals(p.dims(), normalizedShape)) {
                throw new IllegalArgumentException("layerNorm: " + (p == weight ? "weight" : "bias") + " has shape " + p.shape()
                        + " but the normalized shape is " + Arrays.toString(normalizedShape));
            }
        }
        int[] dims = new int[k];
        for (int i = 0; i < k; i++) dims[i] = x.rank() - k + i;
        Tensor y = normalize(x, dims, eps);
        if (weight != null) y = y.mul(weight);
        if (bias != null) y = y.add(bias);
        return y;
    }

    /**
     * BatchNorm over N and the spatial dimensions of an [N, C, *] input, as torch's batch_norm.
     * Training normalises with the batch mean and biased variance and, when running tensors are
     * given, updates them in place: running = (1 - momentum) * running + momentum * batch, with
     * the unbiased variance. Evaluation normalises with the running statistics.
     */
    public static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, float momentum, float eps) {
        requireBatched(x, "batchNorm");
        int c = x.dim(1);
        requireChannelVector(runningMean, "running mean", c, x);
        requireChannelVector(runningVar, "running variance", c, x);
        requireChannelVector(weight, "weight", c, x);
        requireChannelVector(bias, "bias", c, x);
        int[] statShape = channelShape(x);
        int[] dims = new int[x.rank() - 1];
        for (int i = 0, j = 0; i < x.rank(); i++) if (i != 1) dims[j++] = i;
        Tensor y;
        if (training) {
            long count = x.numel() / Math.max(1, c);
            if (count < 2) {
                throw new IllegalArgumentException("batchNorm in training needs more than one value per channel, got input " + x.shape()
                        + "; use a larger batch or evaluation mode");
            }
            if (count > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("batchNorm in training takes at most " + Integer.MAX_VALUE + " values per channel, got input " + x.shape()
                        + "; use a smaller batch or image");
            }
            if (runningMean != null || runningVar != null) {
                try (Scope ignored = Scope.open(); GradMode off = GradMode.off()) {
                    Tensor mean = x.mean(dims, true);
                    Tensor var = x.sub(mean).square().mean(dims, true);
                    if (runningMean != null) blendInto(runningMean, mean.reshape(c), momentum);
                    if (runningVar != null) blendInto(runningVar, var.reshape(c).mul((float) count / (count - 1)), momentum);
                }
            }
            // per-channel batch statistics are GroupNorm's with one group per channel of [1, C, N * spatial]: the fused
            // op keeps its input and output for backward, where mean/sub/square/mul/add kept five full-size tensors
            int n = x.dim(0);
            long spatial = spatialSize(x);
            if (n == 1) return fusedGroupNorm(x.reshape(1, c, (int) count), c, weight, bias, eps, false).reshape(x.dims());
            Tensor perChannel = x.reshape(n, c, (int) spatial).permute(1, 0, 2).reshape(1, c, (int) count);
            return fusedGroupNorm(perChannel, c, weight, bias, eps, false).reshape(c, n, (int) spatial).permute(1, 0, 2).reshape(x.dims());
        } else {
            if (runningMean == null || runningVar == null) {
                throw new IllegalArgumentException("batchNorm in evaluation mode needs the running mean and variance");
            }
            y = x.sub(runningMean.reshape(statShape)).mul(runningVar.reshape(statShape).add(eps).rsqrt());
        }
        return affine(y, weight, bias, statShape);
    }

    /** running = (1 - momentum) * running + momentum * batch, written into running's own storage. */
    private static void blendInto(Tensor running, Tensor batch, float momentum) {
        Tensor updated = running.mul(1 - momentum).add(batch.mul(momentum));
        running.backend().copy(updated.storage(), new long[] {1}, running.storage(), new long[] {1}, new int[] {running.dim(0)});
    }

    /** (x - mean) / sqrt(var + eps) over dims, with the population variance. */
    private static Tensor normalize(Tensor x, int[] dims, float eps) {
        Tensor centered = x.sub(x.mean(dims, true));
        Tensor var = centered.square().mean(dims, true);
        return centered.mul(var.add(eps).rsqrt());
    }

    private static Tensor affine(Tensor y, Tensor weight, Tensor bias, int[] statShape) {
        if (weight != null) y = y.mul(weight.reshape(statShape));
        if (bias != null) y = y.add(bias.reshape(statShape));
        return y;
    }

    /** [1, C, 1, ...] for an [N, C, ...] input: per-channel tensors broadcast in this shape. */
    private static int[] channelShape(Tensor x) {
        int[] s = new int[x.rank()];
        Arrays.fill(s, 1);
        s[1] = x.dim(1);
        return s;
    }

    private static long spatialSize(Tensor x) {
        long s = 1;
        for (int i = 2; i < x.rank(); i++) s *= x.dim(i);
        return s;
    }

    private static void requireBatched(Tensor x, String op) {
        Elementwise.requireReal(x, op);
        if (x.rank() < 2) throw new IllegalArgumentException(op + " takes an [N, C, ...] input, got shape " + x.shape());
    }

    private static void requireChannelVector(Tensor p, String what, int channels, Tensor x) {
        if (p == null) return;
        if (p.isComplex() || p.rank() != 1 || p.dim(0) != channels) {
            throw new IllegalArgumentException("the " + what + " must be a real vector of shape [" + channels + "] (one value per channel) for input " + x.shape()
                    + ", got " + p.dtype() + p.shape());
        }
        if (p.backend() != x.backend()) {
            throw new IllegalArgumentException("the " + what + " is on " + p.device() + " but the input is on " + x.device());
        }
    }
}
