package dev.moesr.app.degrade;

import dev.moesr.app.image.Image;

import java.util.List;

/**
 * A training or test pair made from one HR image: the LR input, the HR target (the input
 * cropped to a multiple of the scale, and for Real-ESRGAN sharpened), and a human-readable
 * record of every random choice made, in order.
 */
public record DegradedPair(Image lr, Image hr, List<String> steps) {
    public DegradedPair {
        steps = List.copyOf(steps);
    }
}
