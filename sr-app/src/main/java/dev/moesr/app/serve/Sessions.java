package dev.moesr.app.serve;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The open pages. A page asks for a session, then keeps one server-sent event stream open on it,
 * over which the state of its jobs arrives (progress, place in the queue, the outcome). The
 * stream is the page's sign of life: a session whose stream has been closed for longer than the
 * grace period (a reload or a closed tab; the grace lets the browser's automatic reconnection
 * come back) is dropped and its jobs are cancelled. A session that never opens a stream is
 * dropped the same way.
 *
 * <p>Events for a job replace that job's pending event, so a slow page gets the latest state,
 * never a growing backlog. Each stream writes a comment line every second when idle, which is how
 * a closed connection is noticed.
 */
final class Sessions implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long HEARTBEAT_MILLIS = 1000;

    private final long graceMillis;
    private final int maxSessions;
    private final int maxStreams;
    private final Consumer<String> onExpire;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final ScheduledExecutorService reaper;
    private volatile boolean closed;
    private int streams;   // guarded by this

    /** One page. */
    static final class Session {
        final String id;
        private final Map<String, String> pending = new LinkedHashMap<>();   // job id -> its latest event, guarded by this
        private int generation;                                            // guarded by this: the current stream's number
        private boolean attached;                                          // guarded by this
        private long detachedSince;                                        // guarded by this

        Session(String id, long now) {
            this.id = id;
            this.detachedSince = now;
        }

        synchronized void offer(String jobId, String json) {
            pending.put(jobId, json);
            notifyAll();
        }

        /** The pending events, waiting up to {@code millis} for one; empty when none came or the stream was replaced. */
        synchronized List<String> take(int generation, long millis) throws InterruptedException {
            long end = System.currentTimeMillis() + millis;
            while (pending.isEmpty() && this.generation == generation) {
                long left = end - System.currentTimeMillis();
                if (left <= 0) break;
                wait(left);
            }
            if (this.generation != generation) return List.of();   // the newer stream sends them
            List<String> out = new ArrayList<>(pending.values());
            pending.clear();
            return out;
        }

        synchronized int attach() {
            attached = true;
            generation++;
            notifyAll();   // an older stream of this session ends
            return generation;
        }

        synchronized boolean current(int generation) { return this.generation == generation; }

        synchronized void detach(int generation, long now) {
            if (this.generation != generation) return;   // replaced by a newer stream, which is attached
            attached = false;
            detachedSince = now;
        }

        synchronized boolean expired(long now, long grace) {
            return !attached && now - detachedSince > grace;
        }

        synchronized void wake() { notifyAll(); }
    }

    Sessions(long graceMillis, int maxSessions, int maxStreams, Consumer<String> onExpire) {
        this.graceMillis = graceMillis;
        this.maxSessions = maxSessions;
        this.maxStreams = maxStreams;
        this.onExpire = onExpire;
        this.reaper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "moesr-serve-sessions");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(50, Math.min(500, graceMillis / 4));
        reaper.scheduleWithFixedDelay(this::reap, period, period, TimeUnit.MILLISECONDS);
    }

    Session create() {
        if (sessions.size() >= maxSessions) throw new HttpError(503, "too many open pages (" + maxSessions + "); close some and reload");
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        Session s = new Session(HexFormat.of().formatHex(b), System.currentTimeMillis());
        sessions.put(s.id, s);
        return s;
    }

    /** The session of a page, or a 409 that tells the page to reload. */
    Session require(String id) {
        Session s = id == null ? null : sessions.get(id);
        if (s == null) throw new HttpError(409, "this page's session has ended (it was closed too long); reload the page");
        return s;
    }

    int count() { return sessions.size(); }

    void publish(String sessionId, String jobId, String json) {
        Session s = sessions.get(sessionId);
        if (s != null) s.offer(jobId, json);
    }

    /**
     * Streams a session's events to the page until the page goes away, the stream is replaced by
     * a newer one of the same session, or the server stops. {@code initial} are the events sent
     * first (the state of the session's jobs, for a reconnecting page).
     */
    void stream(HttpExchange ex, Session s, List<String> initial) throws IOException {
        synchronized (this) {
            if (streams >= maxStreams) throw new HttpError(503, "too many open pages (" + maxStreams + " event streams); close some and reload");
            streams++;
        }
        int generation = s.attach();
        try {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            StringBuilder first = new StringBuilder("retry: 1000\n\n");
            for (String e : initial) first.append("event: job\ndata: ").append(e).append("\n\n");
            write(out, first.toString());
            while (!closed && s.current(generation)) {
                List<String> events = s.take(generation, HEARTBEAT_MILLIS);
                StringBuilder sb = new StringBuilder();
                for (String e : events) sb.append("event: job\ndata: ").append(e).append("\n\n");
                write(out, sb.length() == 0 ? ": ping\n\n" : sb.toString());
            }
        } catch (IOException e) {
            // the page went away (tab closed, reload, navigation): the reaper cancels its jobs after the grace period
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            s.detach(generation, System.currentTimeMillis());
            synchronized (this) {
                streams--;
            }
            ex.close();
        }
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private void reap() {
        long now = System.currentTimeMillis();
        for (Session s : new ArrayList<>(sessions.values())) {
            if (s.expired(now, graceMillis)) {
                sessions.remove(s.id);
                try {
                    onExpire.accept(s.id);
                } catch (RuntimeException e) {
                    System.err.println("sr-app serve: " + e);   // the reaper must go on
                }
            }
        }
    }

    @Override public void close() {
        closed = true;
        for (Session s : sessions.values()) s.wake();
        reaper.shutdownNow();
    }
}
