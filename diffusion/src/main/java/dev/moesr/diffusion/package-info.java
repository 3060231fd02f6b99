/** Noise schedules, DDPM training and sampling, the SS-MoE UNet and the decoders (issues 4, 5). Nothing here yet. */
package dev.moesr.diffusion;
