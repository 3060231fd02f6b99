/**
 * The denoising UNet of the method: CompVis latent-diffusion's "openai" UNetModel (the bsr_sr
 * shape: GroupNorm32 + SiLU ResBlocks without scale-shift norm, legacy-order attention with
 * 32-channel heads, convolutional resampling, LDM's sinusoidal timestep embedding) with the
 * paper's Space-MoE feed-forward layer after every attention block.
 *
 * <ul>
 *   <li>{@link dev.moesr.diffusion.unet.UNetConfig}: the shape; presets {@code moesr-x8} (released 8x model,
 *       428,510,243 parameters with 16 space experts, 113,622,563 without), {@code moesr-x4} (paper Table 7,
 *       4 experts) and {@code tiny}; travels in safetensors metadata as {@code unet.*} entries.</li>
 *   <li>{@link dev.moesr.diffusion.unet.UNetLayout}: the block structure, the state-dict names and shapes
 *       (counting a configuration allocates nothing), and the names the authors' released code uses.</li>
 *   <li>{@link dev.moesr.diffusion.unet.UNet}: the model; {@link dev.moesr.diffusion.unet.ResBlock},
 *       {@link dev.moesr.diffusion.unet.AttentionBlock}, {@link dev.moesr.diffusion.unet.SpaceMoE},
 *       {@link dev.moesr.diffusion.unet.UNetBlock} its parts.</li>
 *   <li>{@link dev.moesr.diffusion.unet.ExpertSharing}: the schedule of the experts' weight sharing (Eq. 5).</li>
 *   <li>{@link dev.moesr.diffusion.unet.ReleasedCheckpoint}: the UNet of a released checkpoint under our names.</li>
 * </ul>
 * The time-stage Sampling experts are {@link dev.moesr.diffusion.sampling.TimeStageExperts}.
 *
 * <h2>State-dict names</h2>
 * LDM's throughout: {@code time_embed.{0,2}}, {@code input_blocks.<n>.<i>...}, {@code middle_block.{0,1,2}},
 * {@code output_blocks.<n>.<i>...}, {@code out.{0,2}}; ResBlocks {@code in_layers.{0,2}}, {@code emb_layers.1},
 * {@code out_layers.{0,3}}, {@code skip_connection}; attention {@code norm}, {@code qkv} ([3C, C, 1]),
 * {@code proj_out}; {@code op} of a Downsample, {@code conv} of an Upsample. A Space-MoE is the child
 * {@code moe} of the block whose attention it follows, so no LDM name moves:
 * <pre>
 *   input_blocks.10.moe.norm.{weight,bias}            LayerNorm(C)
 *   input_blocks.10.moe.experts.&lt;i&gt;.0.{weight,bias}   Linear(C, 4C) of expert i
 *   input_blocks.10.moe.experts.&lt;i&gt;.2.{weight,bias}   Linear(4C, C) of expert i (GELU at 1 has no state)
 *   middle_block.moe.*, output_blocks.&lt;n&gt;.moe.*       likewise
 * </pre>
 *
 * <h2>Training a Space-MoE UNet</h2>
 * <pre>{@code
 * UNet unet = new UNet(UNetConfig.moesrX8(), new Philox(seed));
 * AdamW opt = new AdamW(unet.namedTrainableParameters(), 5e-5);
 * ExpertSharing sharing = ExpertSharing.released();       // or ExpertSharing.paper(): gamma 0.999
 * for (long step = 0; ; step++) {
 *     try (Scope s = Scope.open()) {
 *         opt.zeroGrad();
 *         Losses.mse(unet.forward(Tensor.cat(1, zt, lrCondition), t), noise).backward();
 *         opt.step();
 *         sharing.apply(unet, step);                     // in place: the optimiser keeps the same tensors
 *     }
 * }
 * }</pre>
 * For inference, {@code unet.eval()} (after any EMA swap) under {@code GradMode.off()} runs one FFN of
 * the experts' mean weights per layer; {@code setInference(RANDOM_ROUTING)} keeps routing tokens.
 */
package dev.moesr.diffusion.unet;
