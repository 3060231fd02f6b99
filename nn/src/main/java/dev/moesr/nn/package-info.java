/**
 * Layers, losses, optimisers and state dicts on top of tensor-core: {@link dev.moesr.nn.Module}
 * trees with PyTorch-style dotted state-dict names, the layers in {@code layers}, losses in
 * {@code loss}, Adam/AdamW, clipping, schedules and EMA in {@code optim}, and safetensors
 * checkpoints in {@code io}.
 */
package dev.moesr.nn;
