/** The CUDA backend; see issue 3 and docs/architecture.md. Nothing here yet. */
package dev.moesr.cudakernels;
