/**
 * LPIPS-VGG16 as a network ({@link dev.moesr.diffusion.lpips.Lpips}), the perceptual term of the
 * stage-2 decoder loss and an evaluation metric. No pretrained weights ship with the project (no
 * registry reachable here has them): convert the lpips package's or taming's VGG LPIPS weights
 * (and torchvision's VGG16 features) to safetensors and load them with {@code loadWeights}.
 * The architecture is tested on narrow random networks against a PyTorch model of the same shape.
 */
package dev.moesr.diffusion.lpips;
