/**
 * The paper's frequency-compensated decoder (stage 2): the VQ-GAN decoder with LR-conditioned
 * CFW fusion and an AFF refinement UNet.
 *
 * <ul>
 *   <li>{@link dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel} (VQModelResiUnet of the
 *       released code): the frozen encoder extracts the LR features (level 1: 256 channels at H/2
 *       for VQ-f4) from the LR image upscaled to the output size; decoding quantises the diffusion
 *       latent, applies post_quant_conv and the {@link dev.moesr.diffusion.decoder.FrequencyCompensatedDecoder}.
 *       {@code freezeForStage2()} leaves only the fusion layers and the refinement UNet trainable;
 *       {@code loadFirstStage} starts them from a trained plain VQ-GAN checkpoint.</li>
 *   <li>{@link dev.moesr.diffusion.decoder.CfwFusion}: F_m = F_d + w * C(F_lr, F_d), C =
 *       ResBlock(2c -> c), RRDBs (growth 32), ResBlock(c -> c); w (1.0) is settable at inference
 *       ({@code setFusionWeight}).</li>
 *   <li>{@link dev.moesr.diffusion.decoder.AffUNet}: AFF blocks over three scales, nine with the
 *       released four context blocks, six with one (the paper's text);
 *       {@link dev.moesr.diffusion.decoder.FrequencyDecoderConfig#released()} and {@code paper()}.</li>
 *   <li>{@link dev.moesr.diffusion.decoder.AffBlock} and
 *       {@link dev.moesr.diffusion.decoder.AdaptiveFrequencyFilter}: GroupNorm, inverted residual
 *       (BatchNorm, LeakyReLU 0.1) plus a 1x1 skip, GroupNorm, then the filter
 *       y = irfft2(rfft2(x) * M) + x with M a soft-shrunk complex block-diagonal MLP of the spectrum.</li>
 * </ul>
 *
 * <p>State-dict names. The authors' released inference code (tencent-ailab/Frequency_Aug_VAE_MoESR)
 * was read for facts, and its names are used so its checkpoints can be converted directly:
 * decoder.fusion_layer_1.encode_enc_1 / encode_enc_2.{i} (RRDB: rdb1..rdb3, conv1..conv5) /
 * encode_enc_3, each ResBlock's projection named conv_out; decoder.unet_1.{conv1, conv2, conv3,
 * context_refine.{i}, up_conv3, up_conv2, up3.0, up2.0}; in each AFF block norm1, norm2, up_dim,
 * filter.{w1, b1, w2, b2} (shape [2, blocks, ...], index 0 the real part) and
 * mlp.block.{exp_1x1, conv_3x3, red_1x1}.block.{conv, norm}. The released model uses
 * SyncBatchNorm, whose state is that of BatchNorm2d; our num_batches_tracked is a float where
 * PyTorch stores an int64. Details taken from that code beyond the paper: the inverted residual
 * adds its input when the widths agree, the hidden width is rounded to a multiple of 8, the AFF
 * GroupNorms use eps 1e-5, the frequency MLP's hidden factor is 1, and AFF blocks use drop path
 * 0.1 in training ({@code affDropPath}).
 *
 * <p>Parameters of decoder + CFW + AFF for the released 8x model: 49,696,003 (the 49.7M of the
 * design notes; post_quant_conv and codebook not included), 47,779,843 with the paper's six AFF
 * blocks. The stage-2 trainable part (fusion layer + refinement UNet) is the difference to the
 * plain decoder's 32,960,771.
 */
package dev.moesr.diffusion.decoder;
