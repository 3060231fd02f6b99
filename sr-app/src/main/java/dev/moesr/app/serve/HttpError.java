package dev.moesr.app.serve;

/** A request the server refuses: the HTTP status and the one-line reason the page shows. */
final class HttpError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;

    HttpError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }
}
