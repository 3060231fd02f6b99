/**
 * The VQ-GAN first stage of the latent diffusion (the paper's VQ-f4) and the PatchGAN
 * discriminator of its adversarial loss.
 *
 * <ul>
 *   <li>{@link dev.moesr.diffusion.autoencoder.VqModel}: encoder, quant_conv, quantiser,
 *       post_quant_conv, decoder, with the state-dict names of taming-transformers / CompVis
 *       latent-diffusion (encoder.down.{i}.block.{j}.conv1.weight, decoder.up.{i}.upsample.conv.weight,
 *       quantize.embedding.weight, ...), so converted reference checkpoints load as they are.
 *       {@link dev.moesr.diffusion.autoencoder.VqConfig#f4()} is the paper's configuration.</li>
 *   <li>The diffusion model works on {@code encode(x)}, the latent <em>before</em> quantisation;
 *       {@code decode(latent)} quantises first, then post_quant_conv and the decoder.</li>
 *   <li>{@link dev.moesr.diffusion.autoencoder.VectorQuantizer}: nearest code by
 *       |z|^2 + |e|^2 - 2 z.e (a matrix product, in blocks of rows for large codebooks),
 *       straight-through gradient, legacy codebook/commitment loss with beta 0.25.</li>
 *   <li>{@link dev.moesr.diffusion.autoencoder.PatchDiscriminator}: taming's NLayerDiscriminator
 *       (3 layers, 64 filters, BatchNorm) with its weight initialisation.</li>
 * </ul>
 *
 * <p>Parameter counts of VQ-f4 (from the configuration alone, {@code VqConfig.encoderParameterCount()} etc.):
 * the reference figures 22,337,411 and 32,960,771 are the encoder and decoder modules alone.
 * quant_conv and post_quant_conv (12 each) and the codebook (8192 x 3 = 24,576) are separate
 * modules of VQModel: encoder + quant_conv would be 22,337,423 and decoder + post_quant_conv +
 * codebook 32,985,359. The whole VqModel has 55,322,782.
 *
 * <p>Deliberate differences from the reference: no attention inside resolution levels and no
 * dropout (the f4 model has neither); the encoder's {@code levelFeatures} stops after the deepest
 * requested level (the frequency-compensated decoder only needs level 1); the attention block
 * makes its H*W x H*W scores for blocks of queries when they would exceed 2^24 floats, which
 * gives the same values with bounded memory. Test-sized models set {@code normGroups} below 32.
 */
package dev.moesr.diffusion.autoencoder;
