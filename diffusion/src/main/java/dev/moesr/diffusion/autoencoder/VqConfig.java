package dev.moesr.diffusion.autoencoder;

import java.util.List;

/**
 * Shape of a VQ-GAN first stage (taming-transformers / CompVis latent-diffusion "ddconfig" plus
 * the quantiser). No attention in the resolution levels (only the middle block's), no dropout,
 * {@code double_z} false: the configuration of the paper's VQ-f4.
 *
 * @param inChannels    image channels into the encoder
 * @param outChannels   image channels out of the decoder
 * @param ch            base width; level i has {@code ch * chMult[i]} channels
 * @param chMult        width multipliers, one per level; {@code chMult.size() - 1} halvings
 * @param numResBlocks  residual blocks per encoder level (the decoder has one more per level)
 * @param zChannels     channels of the encoder output / decoder input
 * @param embedDim      codebook vector size (quant_conv maps zChannels to it)
 * @param nEmbed        number of codebook entries
 * @param normGroups    GroupNorm groups (32 in every released model; smaller for tiny test models)
 * @param normEps       GroupNorm epsilon (1e-6 in taming's Normalize)
 * @param beta          commitment weight of the quantiser loss
 */
public record VqConfig(int inChannels, int outChannels, int ch, List<Integer> chMult, int numResBlocks, int zChannels,
                       int embedDim, int nEmbed, int normGroups, float normEps, float beta) {

    public VqConfig {
        chMult = List.copyOf(chMult);
        if (inChannels <= 0 || outChannels <= 0 || ch <= 0 || numResBlocks <= 0 || zChannels <= 0 || embedDim <= 0 || nEmbed <= 0 || normGroups <= 0) {
            throw new IllegalArgumentException("VqConfig needs positive sizes, got in " + inChannels + ", out " + outChannels + ", ch " + ch
                    + ", numResBlocks " + numResBlocks + ", zChannels " + zChannels + ", embedDim " + embedDim + ", nEmbed " + nEmbed
                    + ", normGroups " + normGroups);
        }
        if (chMult.isEmpty()) throw new IllegalArgumentException("VqConfig needs at least one level in chMult");
        for (int m : chMult) {
            if (m <= 0) throw new IllegalArgumentException("VqConfig chMult entries must be positive, got " + chMult);
            if (ch * m % normGroups != 0) {
                throw new IllegalArgumentException("VqConfig: level width " + ch + " x " + m + " = " + ch * m + " is not divisible by normGroups "
                        + normGroups + "; choose ch and chMult so every level width is a multiple of the group count");
            }
        }
        if (!(normEps > 0)) throw new IllegalArgumentException("VqConfig normEps must be > 0, got " + normEps);
        if (!(beta >= 0)) throw new IllegalArgumentException("VqConfig beta must be >= 0, got " + beta);
    }

    /** The paper's VQ-f4: ch 128, chMult [1,2,4], 2 res blocks, z 3, embed 3, 8192 codes; 512x512x3 <-> 3x128x128. */
    public static VqConfig f4() {
        return new VqConfig(3, 3, 128, List.of(1, 2, 4), 2, 3, 3, 8192, 32, 1e-6f, 0.25f);
    }

    public int levels() { return chMult.size(); }

    /** Channels of level {@code i}. */
    public int width(int level) { return ch * chMult.get(level); }

    /** How many times the encoder halves the image: a latent pixel covers factor() x factor() image pixels. */
    public int downsamplingFactor() { return 1 << (levels() - 1); }

    // ---- parameter counts, from the architecture alone (no tensors are made) ------------------------

    /** Parameters of the encoder alone (the reference's "encoder" count, 22,337,411 for VQ-f4). */
    public long encoderParameterCount() {
        long n = conv(inChannels, ch, 3);
        int in = ch;
        for (int level = 0; level < levels(); level++) {
            for (int j = 0; j < numResBlocks; j++) {
                n += ResnetBlock.parameterCount(in, width(level));
                in = width(level);
            }
            if (level != levels() - 1) n += conv(in, in, 3);
        }
        return n + midParameterCount(in) + 2L * in + conv(in, zChannels, 3);
    }

    /** Parameters of the decoder alone (32,960,771 for VQ-f4), without post_quant_conv and codebook. */
    public long decoderParameterCount() {
        int in = width(levels() - 1);
        long n = conv(zChannels, in, 3) + midParameterCount(in);
        for (int level = levels() - 1; level >= 0; level--) {
            for (int j = 0; j < numResBlocks + 1; j++) {
                n += ResnetBlock.parameterCount(in, width(level));
                in = width(level);
            }
            if (level != 0) n += conv(in, in, 3);
        }
        return n + 2L * in + conv(in, outChannels, 3);
    }

    /** quant_conv (zChannels to embedDim, 1x1); post_quant_conv has as many. */
    public long quantConvParameterCount() { return conv(zChannels, embedDim, 1); }

    public long codebookParameterCount() { return (long) nEmbed * embedDim; }

    /** Everything of a VqModel: encoder, decoder, both 1x1 convs and the codebook. */
    public long parameterCount() {
        return encoderParameterCount() + decoderParameterCount() + 2 * quantConvParameterCount() + codebookParameterCount();
    }

    private static long midParameterCount(int c) {
        return 2 * ResnetBlock.parameterCount(c, c) + AttnBlock.parameterCount(c);
    }

    static long conv(int in, int out, int k) { return (long) in * out * k * k + out; }
}
