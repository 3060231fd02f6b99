package dev.moesr.app.train;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C during training: a shutdown hook asks the loop to stop and then waits until the loop
 * has written its checkpoint (checkpoints are written atomically, so even a second, forced
 * kill leaves the previous file whole). Closing removes the hook.
 */
public final class GracefulStop implements AutoCloseable {
    private volatile boolean requested;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread hook;

    public GracefulStop() {
        hook = new Thread(() -> {
            requested = true;
            try {
                finished.await(10, TimeUnit.MINUTES);   // the loop's last checkpoint write
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "train-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    public boolean requested() { return requested; }

    @Override public void close() {
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting: the hook is running and now returns
        }
    }
}
