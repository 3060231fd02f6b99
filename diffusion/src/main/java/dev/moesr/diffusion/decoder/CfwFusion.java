package dev.moesr.diffusion.decoder;

import dev.moesr.diffusion.autoencoder.ResnetBlock;
import dev.moesr.nn.Module;
import dev.moesr.nn.Sequential;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

import java.util.Arrays;

/**
 * StableSR's controllable feature wrapping (CFW), as the released decoder uses it
 * (Fuse_sft_block_RRDB): F_m = F_d + w * C(F_lr, F_d), with C = ResBlock(2c -> c) on
 * concat(F_lr, F_d) along channels, then {@code rrdbBlocks} RRDBs, then ResBlock(c -> c).
 * State: encode_enc_1 (a ResBlock whose projection is named conv_out), encode_enc_2.{i} (the
 * RRDBs), encode_enc_3. w = 0 gives the plain decoder path back; larger w trusts the LR image more.
 */
public class CfwFusion extends Module {
    public final int channels;
    private final ResnetBlock encodeEnc1, encodeEnc3;
    private final Sequential encodeEnc2;

    public CfwFusion(int channels, int rrdbBlocks, int growth, int groups, float eps, Philox rng) {
        if (rrdbBlocks < 0) throw new IllegalArgumentException("CFW needs rrdbBlocks >= 0, got " + rrdbBlocks);
        this.channels = channels;
        this.encodeEnc1 = registerModule("encode_enc_1", new ResnetBlock(2 * channels, channels, groups, eps, "conv_out", rng));
        Sequential rrdbs = new Sequential();
        for (int i = 0; i < rrdbBlocks; i++) rrdbs.add(new Rrdb(channels, growth, rng));
        this.encodeEnc2 = registerModule("encode_enc_2", rrdbs);
        this.encodeEnc3 = registerModule("encode_enc_3", new ResnetBlock(channels, channels, groups, eps, "conv_out", rng));
    }

    public static long parameterCount(int channels, int rrdbBlocks, int growth) {
        return ResnetBlock.parameterCount(2 * channels, channels) + rrdbBlocks * Rrdb.parameterCount(channels, growth)
                + ResnetBlock.parameterCount(channels, channels);
    }

    /** F_d + w * C(F_lr, F_d) for LR features and decoder features of the same shape [N, channels, H, W]. */
    public Tensor forward(Tensor lrFeatures, Tensor decoderFeatures, float w) {
        if (decoderFeatures.rank() != 4 || decoderFeatures.dim(1) != channels || !Arrays.equals(lrFeatures.dims(), decoderFeatures.dims())) {
            throw new IllegalArgumentException("CFW fusion needs LR and decoder features of the same shape [N, " + channels + ", H, W], got "
                    + lrFeatures.shape() + " and " + decoderFeatures.shape()
                    + "; the LR image must be upscaled to the output size before the encoder extracts its features");
        }
        Tensor c = encodeEnc3.forward(encodeEnc2.forward(encodeEnc1.forward(Tensor.cat(1, lrFeatures, decoderFeatures))));
        return decoderFeatures.add(c.mul(w));
    }

    @Override public String toString() { return "CfwFusion(" + channels + ")"; }
}
