package dev.moesr.app.serve;

import dev.moesr.app.infer.SuperResolver;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One super-resolution request: waiting in the queue, running, then done, failed or cancelled.
 * The worker thread changes it; page requests read snapshots of it. While it waits or runs it
 * holds the uploaded file; once done, the file and the result's PNG until the job is dropped
 * from the kept results.
 */
final class Job {
    enum State { QUEUED, RUNNING, DONE, FAILED, CANCELLED;
        String json() { return name().toLowerCase(Locale.ROOT); }
        boolean finished() { return this == DONE || this == FAILED || this == CANCELLED; }
    }

    /** The outcome of a finished job. */
    record Result(int width, int height, byte[] png, double seconds, String description) {}

    final String id;
    final String session;
    final String name;
    final JobSettings settings;
    final int inputWidth;
    final int inputHeight;
    final int outputWidth;
    final int outputHeight;

    private volatile boolean cancelRequested;
    private String cancelReason;
    private byte[] upload;
    private State state = State.QUEUED;
    private int place;
    private String phase = "waiting";
    private int done;
    private int total;
    private double percent;
    private double etaSeconds = Double.NaN;
    private String message;
    private Result result;
    private boolean expired;
    private long version;   // counts the changes: a page keeps the newest snapshot whichever way it came (event or answer)

    Job(String id, String session, String name, byte[] upload, int inputWidth, int inputHeight, JobSettings settings) {
        this.id = id;
        this.session = session;
        this.name = name;
        this.upload = upload;
        this.settings = settings;
        this.inputWidth = inputWidth;
        this.inputHeight = inputHeight;
        this.outputWidth = inputWidth * settings.model().scale();
        this.outputHeight = inputHeight * settings.model().scale();
    }

    boolean cancelRequested() { return cancelRequested; }

    /** Asks the job to stop; {@code why} is what the page will show. The first reason given stays. */
    synchronized void requestCancel(String why) {
        if (!cancelRequested) cancelReason = why;
        cancelRequested = true;
    }

    synchronized String cancelReason() { return cancelReason == null ? "cancelled" : cancelReason; }

    synchronized State state() { return state; }

    synchronized byte[] upload() { return upload; }

    synchronized Result result() { return result; }

    synchronized boolean expired() { return expired; }

    synchronized void place(int place) {
        if (this.place != place) version++;
        this.place = place;
    }

    synchronized void started() {
        version++;
        state = State.RUNNING;
        place = 0;
        phase = "loading";
    }

    synchronized void phase(String phase) {
        this.phase = phase;
        version++;
    }

    synchronized void progress(SuperResolver.Phase p, int done, int total, double percent, double etaSeconds) {
        version++;
        this.phase = p == SuperResolver.Phase.SAMPLING ? "sampling" : "decoding";
        this.done = done;
        this.total = total;
        this.percent = percent;
        this.etaSeconds = etaSeconds;
    }

    synchronized void succeeded(Result r) {
        version++;
        state = State.DONE;
        result = r;
        phase = "done";
        percent = 100;
        etaSeconds = 0;
        message = null;
    }

    synchronized void failed(String why) {
        version++;
        state = State.FAILED;
        phase = "failed";
        message = why;
        etaSeconds = Double.NaN;
        upload = null;
    }

    synchronized void cancelled(String why) {
        version++;
        state = State.CANCELLED;
        phase = "cancelled";
        message = why;
        etaSeconds = Double.NaN;
        upload = null;
    }

    /** Drops the held bytes: the job is no longer among the kept results. */
    synchronized void expire() {
        version++;
        expired = true;
        upload = null;
        if (result != null) result = new Result(result.width, result.height, null, result.seconds, result.description);
    }

    synchronized Map<String, Object> snapshot() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("version", version);
        m.put("name", name);
        m.put("state", state.json());
        m.put("place", state == State.QUEUED ? place : null);
        m.put("phase", phase);
        m.put("done", done);
        m.put("total", total);
        m.put("percent", Math.round(percent * 10) / 10.0);
        m.put("etaSeconds", Double.isNaN(etaSeconds) ? null : (double) Math.round(etaSeconds));
        m.put("message", message);
        m.put("input", Map.of("width", inputWidth, "height", inputHeight));
        m.put("output", Map.of("width", outputWidth, "height", outputHeight));
        m.put("settings", settings.toJson());
        if (result != null) {
            m.put("seconds", Math.round(result.seconds() * 100) / 100.0);
            m.put("description", result.description());
        }
        m.put("expired", expired);
        return m;
    }
}
