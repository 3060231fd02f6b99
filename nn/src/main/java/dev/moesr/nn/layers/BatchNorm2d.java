package dev.moesr.nn.layers;

import dev.moesr.nn.Buffer;
import dev.moesr.nn.InPlace;
import dev.moesr.nn.Layer;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

/**
 * Batch normalisation of NCHW input (PyTorch's nn.BatchNorm2d): batch statistics in training,
 * which also update the running ones; running statistics in evaluation. State dict:
 * weight, bias, running_mean, running_var, num_batches_tracked.
 */
public class BatchNorm2d extends Layer {
    public final int channels;
    public final float eps, momentum;
    private final Parameter weight;
    private final Parameter bias;
    private final Buffer runningMean;
    private final Buffer runningVar;
    private final Buffer numBatchesTracked;

    public BatchNorm2d(int channels) { this(channels, 1e-5f, 0.1f, true); }

    public BatchNorm2d(int channels, float eps, float momentum, boolean affine) {
        if (channels <= 0) throw new IllegalArgumentException("BatchNorm2d needs channels > 0, got " + channels);
        if (!(eps > 0)) throw new IllegalArgumentException("BatchNorm2d eps must be > 0, got " + eps);
        if (!(momentum >= 0 && momentum <= 1)) throw new IllegalArgumentException("BatchNorm2d momentum must be in [0, 1], got " + momentum);
        this.channels = channels;
        this.eps = eps;
        this.momentum = momentum;
        this.weight = affine ? registerParameter("weight", Tensor.ones(channels)) : null;
        this.bias = affine ? registerParameter("bias", Tensor.zeros(channels)) : null;
        this.runningMean = registerBuffer("running_mean", Tensor.zeros(channels));
        this.runningVar = registerBuffer("running_var", Tensor.ones(channels));
        // a float count here (PyTorch keeps an int64): exact up to 2^24 batches
        this.numBatchesTracked = registerBuffer("num_batches_tracked", Tensor.zeros());
    }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    public Buffer runningMean() { return runningMean; }

    public Buffer runningVar() { return runningVar; }

    public Buffer numBatchesTracked() { return numBatchesTracked; }

    @SuppressWarnings("try")   // the Scope / GradMode resources only bound a region
    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != channels) {
            throw new IllegalArgumentException("BatchNorm2d(" + channels + ") needs NCHW input with " + channels + " channels, got shape " + x.shape());
        }
        boolean training = isTraining();
        if (training && x.numel() / channels <= 1) {
            throw new IllegalArgumentException("BatchNorm2d in training needs more than one value per channel, got shape " + x.shape() + "; use eval() for single values");
        }
        Tensor y = x.batchNorm(runningMean.tensor(), runningVar.tensor(), weight == null ? null : weight.tensor(),
                bias == null ? null : bias.tensor(), training, momentum, eps);
        if (training) {
            try (Scope s = Scope.open(); GradMode g = GradMode.off()) {
                InPlace.assign(numBatchesTracked.tensor(), numBatchesTracked.tensor().add(1f));
            }
        }
        return y;
    }

    @Override public String toString() { return "BatchNorm2d(" + channels + ", eps " + eps + ", momentum " + momentum + ")"; }
}
