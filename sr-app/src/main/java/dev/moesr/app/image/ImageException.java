package dev.moesr.app.image;

import java.io.IOException;

/**
 * An image file that cannot be read or written, with a one-line message that names the file
 * and says what is wrong (and, where there is one, what to do).
 */
public class ImageException extends IOException {
    public ImageException(String message) {
        super(message);
    }

    public ImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
