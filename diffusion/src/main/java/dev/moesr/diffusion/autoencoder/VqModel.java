package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.Module;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * The VQ-GAN first stage (taming's / latent-diffusion's VQModel), with its state-dict names:
 * encoder.*, decoder.*, quantize.embedding.weight, quant_conv.*, post_quant_conv.*.
 *
 * <p>The latent diffusion works on {@link #encode} (encoder then quant_conv, <em>before</em>
 * quantisation); {@link #decode} quantises first, then applies post_quant_conv and the decoder.
 */
public class VqModel extends Module {
    /** A full pass: the reconstruction, the quantiser loss and the codes used. */
    public record Reconstruction(Tensor image, Tensor codebookLoss, Tensor indices) {}

    public final VqConfig config;
    private final Encoder encoder;
    private final Decoder decoder;
    private final VectorQuantizer quantize;
    private final Conv2d quantConv, postQuantConv;

    public VqModel(VqConfig config, Philox rng) {
        this.config = config;
        this.encoder = registerModule("encoder", new Encoder(config, rng));
        this.decoder = registerModule("decoder", new Decoder(config, rng));
        this.quantize = registerModule("quantize", new VectorQuantizer(config.nEmbed(), config.embedDim(), config.beta(), rng));
        this.quantConv = registerModule("quant_conv", new Conv2d(config.zChannels(), config.embedDim(), 1, 1, 0, rng));
        this.postQuantConv = registerModule("post_quant_conv", new Conv2d(config.embedDim(), config.zChannels(), 1, 1, 0, rng));
    }

    public Encoder encoder() { return encoder; }

    public Decoder decoder() { return decoder; }

    public VectorQuantizer quantizer() { return quantize; }

    /** Image [N, C, H, W] (values in [-1, 1]) to the unquantised latent [N, embedDim, H/f, W/f]: what the diffusion model sees. */
    public Tensor encode(Tensor image) { return quantConv.forward(encoder.forward(image)); }

    /** Nearest codebook entries of a latent, with the straight-through gradient and the codebook loss. */
    public VectorQuantizer.Result quantize(Tensor latent) { return quantize.forward(latent); }

    /** Latent [N, embedDim, h, w] to an image: quantise, post_quant_conv, decoder. */
    public Tensor decode(Tensor latent) { return decodeQuantized(quantize.forward(latent).quantized()); }

    /** An already quantised latent to an image: post_quant_conv, decoder. */
    public Tensor decodeQuantized(Tensor quantized) { return decoder.forward(postQuantConv.forward(quantized)); }

    /** Code indices [N, h, w] to an image. */
    public Tensor decodeCodes(Tensor indices) { return decodeQuantized(quantize.lookup(indices)); }

    /** Encode, quantise and decode an image. */
    public Reconstruction forward(Tensor image) {
        VectorQuantizer.Result q = quantize.forward(encode(image));
        return new Reconstruction(decodeQuantized(q.quantized()), q.loss(), q.indices());
    }
}
