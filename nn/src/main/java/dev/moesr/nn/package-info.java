/** Layers, losses, optimisers and state dicts on top of tensor-core (issue 4). Nothing here yet. */
package dev.moesr.nn;
