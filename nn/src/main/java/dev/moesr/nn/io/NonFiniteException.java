package dev.moesr.nn.io;

/** A loss, gradient or tensor became NaN or infinite: the work is stopped before it reaches a file. The message says what to do. */
public class NonFiniteException extends RuntimeException {
    public NonFiniteException(String message) { super(message); }
}
