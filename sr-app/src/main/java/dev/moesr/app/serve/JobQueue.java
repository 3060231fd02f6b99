package dev.moesr.app.serve;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.infer.SuperResolver;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.backend.Backends;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The jobs of one device: a single worker thread runs them one at a time in the order they came;
 * the others wait and know their place. The worker holds at most one model, loaded when a job
 * needs it and released when a job needs another one (or the queue closes). Cancelling a waiting
 * job takes it out of the queue; cancelling the running one makes its progress listener throw a
 * {@link CancellationException} at the next model call, which {@link SuperResolver#upscale}
 * lets through, releasing its tensors as its scopes close.
 *
 * <p>Memory is bounded: at most {@code maxWaiting} jobs wait (each holding its upload), and only
 * the last {@code keepResults} finished jobs keep their files (the upload and the result PNG);
 * older ones are forgotten.
 */
final class JobQueue implements AutoCloseable {
    /** Progress events are sent at most this often (the first and last of a phase always). */
    private static final long PROGRESS_INTERVAL_NANOS = 100_000_000L;

    private final Device device;
    private final long maxPixels;
    private final int keepResults;
    private final int maxWaiting;
    private final Consumer<Job> publish;

    private final Object lock = new Object();
    private final Deque<Job> waiting = new ArrayDeque<>();          // guarded by lock
    private final Deque<Job> finished = new ArrayDeque<>();         // guarded by lock: done jobs, oldest first
    private final Deque<Job> unsuccessful = new ArrayDeque<>();     // guarded by lock: failed and cancelled ones
    private Job running;                                            // guarded by lock
    private boolean closed;                                         // guarded by lock
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final Thread worker;

    // the worker thread's own
    private SuperResolver model;
    private ModelCatalog.Entry modelEntry;
    private volatile String loadedModelId;
    private volatile int completed, failedCount, cancelledCount;

    JobQueue(Device device, long maxPixels, int keepResults, int maxWaiting, Consumer<Job> publish) {
        this.device = device;
        this.maxPixels = maxPixels;
        this.keepResults = keepResults;
        this.maxWaiting = maxWaiting;
        this.publish = publish;
        this.worker = new Thread(this::work, "moesr-serve-worker-" + device);
        worker.setDaemon(true);
        worker.start();
    }

    long maxPixels() { return maxPixels; }

    /** Queues a job; refused when the queue is full or closed. */
    void submit(Job job) {
        synchronized (lock) {
            if (closed) throw new HttpError(503, "the server is shutting down");
            if (waiting.size() >= maxWaiting) {
                throw new HttpError(503, "the queue is full (" + maxWaiting + " jobs waiting); wait for one to finish or cancel one");
            }
            jobs.put(job.id, job);
            waiting.addLast(job);
            job.place(waiting.size());
            lock.notifyAll();
        }
        publish.accept(job);
    }

    Job get(String id) { return jobs.get(id); }

    /** The session's jobs that are still known, oldest first. */
    List<Job> jobsOf(String session) {
        List<Job> out = new ArrayList<>();
        synchronized (lock) {
            for (Job j : finished) if (j.session.equals(session)) out.add(j);
            for (Job j : unsuccessful) if (j.session.equals(session)) out.add(j);
            if (running != null && running.session.equals(session)) out.add(running);
            for (Job j : waiting) if (j.session.equals(session)) out.add(j);
        }
        return out;
    }

    /** Cancels a waiting job at once, the running one at its next model call; finished jobs stay as they are. */
    void cancel(Job job, String why) {
        boolean removed;
        synchronized (lock) {
            if (job.state().finished()) return;
            job.requestCancel(why);
            removed = waiting.remove(job);
            if (removed) {
                job.cancelled(job.cancelReason());
                remember(job);
            }
        }
        if (removed) {
            publish.accept(job);
            publishPlaces();
        }
    }

    /** Cancels every job of a session (its page went away). */
    void cancelSession(String session, String why) {
        List<Job> mine = new ArrayList<>();
        synchronized (lock) {
            if (running != null && running.session.equals(session)) mine.add(running);
            for (Job j : waiting) if (j.session.equals(session)) mine.add(j);
        }
        for (Job j : mine) cancel(j, why);
    }

    private void publishPlaces() {
        List<Job> w;
        synchronized (lock) {
            w = new ArrayList<>(waiting);
            for (int i = 0; i < w.size(); i++) w.get(i).place(i + 1);
        }
        for (Job j : w) publish.accept(j);
    }

    private void work() {
        while (true) {
            Job job;
            synchronized (lock) {
                while (waiting.isEmpty() && !closed) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        closed = true;
                    }
                }
                if (closed) break;
                job = waiting.removeFirst();
                running = job;
                job.started();
            }
            publish.accept(job);
            publishPlaces();
            try {
                run(job);
            } catch (Throwable t) {
                // nothing may end the worker: the server keeps serving after any failure
                if (!job.state().finished()) job.failed(oneLine(t));
            }
            synchronized (lock) {
                running = null;
                remember(job);
            }
            publish.accept(job);
        }
        releaseModel();
    }

    private void run(Job job) {
        long start = System.nanoTime();
        try {
            if (job.cancelRequested()) throw new CancellationException();
            SuperResolver sr = modelFor(job.settings.model());
            if (job.cancelRequested()) throw new CancellationException();
            Image lr = ImageFiles.decode(job.upload(), job.name, maxPixels);
            SuperResolver.Options options = job.settings.options();
            SuperResolver.Options effective = sr.effective(options);
            Tracker tracker = new Tracker(job, start);
            options.progress((phase, done, total) -> {
                if (job.cancelRequested()) throw new CancellationException("cancelled");
                tracker.update(phase, done, total);
            });
            job.phase("sampling");
            publish.accept(job);
            Image hr = sr.upscale(lr, options);
            if (job.cancelRequested()) throw new CancellationException();
            job.phase("encoding");
            byte[] png = Pngs.encode(hr);
            double seconds = (System.nanoTime() - start) / 1e9;
            String fusion = job.settings.fusionWeight() != null ? "fusion weight " + job.settings.fusionWeight()
                    : "fusion weight " + job.settings.model().fusionWeight() + " (the model's)";
            job.succeeded(new Job.Result(hr.width(), hr.height(), png, seconds,
                    effective.describe() + ", seed " + job.settings.seed() + ", " + fusion + "; " + job.settings.model().id()));
            completed++;
        } catch (CancellationException e) {
            job.cancelled(job.cancelReason());
            cancelledCount++;
        } catch (ImageException | IllegalArgumentException e) {
            job.failed(oneLine(e));
            failedCount++;
        } catch (OutOfMemoryError e) {
            releaseModel();   // the model is loaded again by the next job: give the memory back now
            job.failed("out of memory: use a smaller image, or give the server more memory (-Xmx)");
            failedCount++;
        } catch (Exception e) {
            if (isCancellation(e)) {
                job.cancelled(job.cancelReason());
                cancelledCount++;
            } else {
                job.failed(oneLine(e));
                failedCount++;
            }
        }
    }

    /** The loaded model when it is the one asked for; otherwise the old one is released first, then the new one loaded. */
    private SuperResolver modelFor(ModelCatalog.Entry entry) throws java.io.IOException {
        if (model != null && modelEntry.equals(entry)) return model;
        releaseModel();
        SuperResolver sr = SuperResolver.open(entry.file(), device);
        model = sr;
        modelEntry = entry;
        loadedModelId = entry.id();
        return sr;
    }

    private void releaseModel() {
        if (model != null) {
            model.close();
            model = null;
            modelEntry = null;
            loadedModelId = null;
        }
    }

    /** Keeps a finished job's record; the oldest beyond the limits are forgotten. Under lock. */
    private void remember(Job job) {
        Deque<Job> list = job.state() == Job.State.DONE ? finished : unsuccessful;
        list.addLast(job);
        int limit = job.state() == Job.State.DONE ? keepResults : Math.max(keepResults, 32);
        while (list.size() > limit) {
            Job old = list.removeFirst();
            old.expire();
            jobs.remove(old.id);
        }
    }

    /** A snapshot for /api/status: the queue, the loaded model and the memory in use. */
    Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        synchronized (lock) {
            m.put("running", running == null ? null : running.id);
            List<String> w = new ArrayList<>();
            for (Job j : waiting) w.add(j.id);
            m.put("waiting", w);
            m.put("keptResults", finished.size());
            m.put("keptJobs", jobs.size());
        }
        m.put("completed", completed);
        m.put("failed", failedCount);
        m.put("cancelled", cancelledCount);
        m.put("loadedModel", loadedModelId);
        m.put("device", Backends.resolve(device).toString());
        m.put("tensorBytesInUse", Backends.get(device).bytesInUse());
        Runtime rt = Runtime.getRuntime();
        m.put("heapUsedBytes", rt.totalMemory() - rt.freeMemory());
        return m;
    }

    static boolean isCancellation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CancellationException) return true;
            if (t.getCause() == t) break;
        }
        return false;
    }

    /** The message of an exception on one line, with its kind when it is not an input problem. */
    static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) m = e.getClass().getSimpleName();
        else if (!(e instanceof ImageException || e instanceof IllegalArgumentException || e instanceof java.io.IOException)) {
            m = e.getClass().getSimpleName() + ": " + m;
        }
        m = m.replace('\r', ' ').replace('\n', ' ').trim();
        return m.length() <= 400 ? m : m.substring(0, 397) + "...";
    }

    /** Stops the worker: waiting jobs are cancelled, the running one is cancelled at its next model call, the model released. */
    @Override public void close() {
        List<Job> all = new ArrayList<>();
        synchronized (lock) {
            if (running != null) all.add(running);
            all.addAll(waiting);
        }
        for (Job j : all) cancel(j, "the server stopped");
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        try {
            worker.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Phase, percent and ETA from the listener's counts, sent at most every 100 ms. */
    private final class Tracker {
        private final Job job;
        private final int steps;
        private final long start;
        private long decodeStart;
        private long lastSent;
        private double samplingPerCall = Double.NaN;

        Tracker(Job job, long start) {
            this.job = job;
            this.start = start;
            this.steps = ((Number) job.settings.toJson().get("steps")).intValue();
        }

        void update(SuperResolver.Phase phase, int done, int total) {
            long now = System.nanoTime();
            double percent, eta;
            if (phase == SuperResolver.Phase.SAMPLING) {
                // the decoder makes one call per latent tile: the sampling's calls divided by the steps
                int tiles = Math.max(1, total / steps);
                percent = 100.0 * done / (total + tiles);
                samplingPerCall = (now - start) / 1e9 / done;
                eta = samplingPerCall * (total - done + tiles);   // a decoder call taken as long as a sampling one until measured
                if (done == total) decodeStart = now;
            } else {
                int samplingCalls = total * steps;
                percent = 100.0 * (samplingCalls + done) / (samplingCalls + total);
                double perTile = (now - decodeStart) / 1e9 / done;
                eta = perTile * (total - done);
            }
            job.progress(phase, done, total, Math.min(percent, 99.9), eta);
            if (done == 1 || done == total || now - lastSent >= PROGRESS_INTERVAL_NANOS) {
                lastSent = now;
                publish.accept(job);
            }
        }
    }

    @Override public String toString() {
        return String.format(Locale.ROOT, "queue on %s", device);
    }
}
