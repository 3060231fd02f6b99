package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.Init;
import dev.moesr.nn.Module;
import dev.moesr.nn.layers.Embedding;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

/**
 * taming's VectorQuantizer2 in its default (legacy) form. Each latent vector (the channels of
 * one position) is replaced by its nearest codebook entry in squared Euclidean distance,
 * |z|^2 + |e|^2 - 2 z.e, computed with a matrix product. The output passes gradients straight
 * through to z (z + stop_gradient(z_q - z)); the codebook learns only from the loss
 * mean((stop_gradient(z_q) - z)^2) + beta * mean((z_q - stop_gradient(z))^2), where, as in the
 * legacy form, beta weighs the codebook term rather than the commitment term. State:
 * {@code embedding.weight} [nEmbed, embedDim], initialised uniform in +-1/nEmbed.
 */
public class VectorQuantizer extends Module {
    /** Rows of distances computed at once, times nEmbed, stays below this many floats. */
    private static final int DISTANCE_CHUNK_FLOATS = 1 << 22;

    /**
     * The quantiser's output.
     *
     * @param quantized the codebook vectors, [N, D, H, W], with straight-through gradient to the input
     * @param loss      the scalar codebook + commitment loss
     * @param indices   the chosen codebook rows, [N, H, W], as float values (exact below 2^24)
     */
    public record Result(Tensor quantized, Tensor loss, Tensor indices) {}

    public final int nEmbed, embedDim;
    public final float beta;
    private final Embedding embedding;

    public VectorQuantizer(int nEmbed, int embedDim, float beta, Philox rng) {
        this.nEmbed = nEmbed;
        this.embedDim = embedDim;
        this.beta = beta;
        this.embedding = registerModule("embedding", new Embedding(nEmbed, embedDim, rng));
        try (Scope s = Scope.open()) {
            embedding.weight().assign(Init.uniform(rng, Device.CPU, 1.0 / nEmbed, nEmbed, embedDim));
        }
    }

    public Tensor codebook() { return embedding.weight().tensor(); }

    /** Quantises z [N, embedDim, H, W]. */
    public Result forward(Tensor z) {
        checkLatent(z);
        int n = z.dim(0), h = z.dim(2), w = z.dim(3);
        Tensor zLast = z.permute(0, 2, 3, 1);                                 // [N, H, W, D]: one vector per position
        Tensor indices = nearest(zLast.reshape(-1, embedDim));                // [N*H*W], no gradient
        Tensor zq = Tensor.embedding(codebook(), indices).reshape(n, h, w, embedDim);
        Tensor commitment = zq.detach().sub(zLast).square().mean();
        Tensor codebookTerm = zq.sub(zLast.detach()).square().mean();
        Tensor loss = commitment.add(codebookTerm.mul(beta));
        Tensor straightThrough = zLast.add(zq.sub(zLast).detach());
        return new Result(straightThrough.permute(0, 3, 1, 2), loss, indices.reshape(n, h, w));
    }

    /** The codebook rows nearest to each row of {@code vectors} [M, embedDim], as [M] float indices. */
    @SuppressWarnings("try")   // the GradMode resource only scopes the setting
    public Tensor nearest(Tensor vectors) {
        if (vectors.rank() != 2 || vectors.dim(1) != embedDim) {
            throw new IllegalArgumentException("nearest() needs vectors [M, " + embedDim + "], got shape " + vectors.shape());
        }
        int m = vectors.dim(0);
        int rows = Math.max(1, DISTANCE_CHUNK_FLOATS / nEmbed);
        try (Scope s = Scope.open(); GradMode ignored = GradMode.off()) {
            Tensor e = codebook();
            Tensor eSquared = e.square().sum(1, false);                       // [K]
            Tensor eT = e.transpose(0, 1);                                    // [D, K]
            Tensor[] parts = new Tensor[Math.max(1, (m + rows - 1) / rows)];
            for (int i = 0; i < parts.length; i++) {
                Tensor zc = parts.length == 1 ? vectors : vectors.slice(0, i * rows, Math.min(m, (i + 1) * rows));
                Tensor d = zc.square().sum(1, true).add(eSquared).sub(zc.matmul(eT).mul(2f));
                parts[i] = d.argmin(1, false);
            }
            return s.keep(parts.length == 1 ? parts[0] : Tensor.cat(0, parts));
        }
    }

    /** Codebook vectors for indices [N, H, W]: [N, embedDim, H, W] (taming's get_codebook_entry). */
    public Tensor lookup(Tensor indices) {
        if (indices.rank() != 3) throw new IllegalArgumentException("lookup() needs code indices [N, H, W], got shape " + indices.shape());
        return Tensor.embedding(codebook(), indices).permute(0, 3, 1, 2);
    }

    private void checkLatent(Tensor z) {
        if (z.rank() != 4 || z.dim(1) != embedDim) {
            throw new IllegalArgumentException("the quantiser needs latents [N, " + embedDim + ", H, W], got shape " + z.shape());
        }
    }
}
