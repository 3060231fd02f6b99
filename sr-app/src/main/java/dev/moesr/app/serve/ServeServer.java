package dev.moesr.app.serve;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageException;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.backend.Backends;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The web server of {@code sr-app serve}: the JDK's {@link HttpServer} serving one page (HTML,
 * CSS and JavaScript from the jar's {@code web/} resources) and a small JSON API under
 * {@code /api/}. See docs/serve.md for the API and the limits.
 */
final class ServeServer implements AutoCloseable {

    /** What the server accepts. */
    public record Limits(long maxPixels, long maxUploadBytes, int keepResults, int maxWaiting, long graceMillis) {
        public Limits {
            if (maxPixels < 1) throw new IllegalArgumentException("--max-pixels must be positive, got " + maxPixels);
            if (maxUploadBytes < 1) throw new IllegalArgumentException("the upload limit must be positive, got " + maxUploadBytes);
            if (keepResults < 1) throw new IllegalArgumentException("--keep-results must be at least 1, got " + keepResults);
            if (maxWaiting < 1) throw new IllegalArgumentException("--max-queue must be at least 1, got " + maxWaiting);
        }

        /** infer's pixel limit, 100 MB uploads, the last 8 results, 16 waiting jobs, 5 s for a page to come back. */
        public static Limits defaults() {
            return new Limits(16_000_000L, 100_000_000L, 8, 16, 5000);
        }
    }

    private static final int THREADS = 32;
    private static final long DRAIN_LIMIT = 1L << 30;   // bytes of a refused upload read and dropped (fast on loopback)
    private static final int MAX_STREAMS = 16;   // each open page holds a thread; the others stay for requests
    private static final Pattern JOB_PATH = Pattern.compile("/api/jobs/([0-9a-f]{32})(/(cancel|result\\.png|input\\.png|bicubic\\.png))?");
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "[::1]");
    private static final String CSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
            + "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    private static final SecureRandom RANDOM = new SecureRandom();

    private record Asset(String contentType, byte[] bytes) {}

    private final ModelCatalog catalog;
    private final Device device;
    private final Limits limits;
    private final Map<String, Asset> assets = new LinkedHashMap<>();
    private final HttpServer http;
    private final ExecutorService pool;
    private final JobQueue queue;
    private final Sessions sessions;
    private final Semaphore decodes = new Semaphore(2);   // decoding a large upload takes memory: two at a time
    private final boolean loopbackOnly;

    private ServeServer(ModelCatalog catalog, Device device, Limits limits, InetSocketAddress address) throws IOException {
        this.catalog = catalog;
        this.device = device;
        this.limits = limits;
        loadAsset("/", "index.html", "text/html; charset=utf-8");
        loadAsset("/app.css", "app.css", "text/css; charset=utf-8");
        loadAsset("/app.js", "app.js", "text/javascript; charset=utf-8");
        loadAsset("/favicon.svg", "favicon.svg", "image/svg+xml");
        this.sessions = new Sessions(limits.graceMillis(), 64, MAX_STREAMS, this::sessionEnded);
        this.queue = new JobQueue(device, limits.maxPixels(), limits.keepResults(), limits.maxWaiting(), this::publish);
        this.loopbackOnly = address.getAddress() != null && address.getAddress().isLoopbackAddress();
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "moesr-serve-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        HttpServer server;
        try {
            server = HttpServer.create(address, 64);
        } catch (IOException e) {
            queue.close();
            sessions.close();
            pool.shutdownNow();
            throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort() + " (" + e.getMessage()
                    + "); choose another --port or --host", e);
        }
        this.http = server;
        http.createContext("/", this::handle);
        http.setExecutor(pool);
        http.start();
    }

    /** Starts a server on {@code host:port} (port 0: any free port) with the models of {@code catalog} on {@code device}. */
    static ServeServer start(String host, int port, ModelCatalog catalog, Device device, Limits limits) throws IOException {
        InetAddress address = InetAddress.getByName(host);
        return new ServeServer(catalog, device, limits, new InetSocketAddress(address, port));
    }

    /** The page's address. */
    public URI uri() {
        InetSocketAddress a = http.getAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
        if (host.contains(":")) host = "[" + host + "]";
        return URI.create("http://" + host + ":" + a.getPort() + "/");
    }

    public int port() { return http.getAddress().getPort(); }

    /** Whether the server answers this machine only. */
    boolean loopbackOnly() { return loopbackOnly; }

    private void loadAsset(String path, String resource, String type) throws IOException {
        try (InputStream in = ServeServer.class.getResourceAsStream("/web/" + resource)) {
            if (in == null) throw new IOException("the page's file web/" + resource + " is missing from the jar");
            assets.put(path, new Asset(type, in.readAllBytes()));
        }
    }

    // ---- events -------------------------------------------------------------------------------

    private void publish(Job job) {
        sessions.publish(job.session, job.id, JsonOut.write(job.snapshot()));
    }

    private void sessionEnded(String session) {
        queue.cancelSession(session, "cancelled: the page was closed");
    }

    // ---- requests -----------------------------------------------------------------------------

    private void handle(HttpExchange ex) {
        try {
            checkHost(ex);
            route(ex);
        } catch (HttpError e) {
            sendJson(ex, e.status, Map.of("error", e.getMessage()));
        } catch (IOException e) {
            // the client went away
        } catch (RuntimeException | OutOfMemoryError e) {
            System.err.println("sr-app serve: " + ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + " failed: " + e);
            sendJson(ex, 500, Map.of("error", "the server failed on this request (" + JobQueue.oneLine(e) + ")"));
        } finally {
            ex.close();
        }
    }

    /**
     * A loopback-only server answers only requests that name a loopback host: a web page from
     * elsewhere cannot reach it through a DNS name that resolves to 127.0.0.1. Requests that
     * change something must come from this server's own page when they say where they come from.
     */
    private void checkHost(HttpExchange ex) {
        String host = ex.getRequestHeaders().getFirst("Host");
        if (loopbackOnly) {
            String name = host == null ? "" : host.replaceFirst(":\\d+$", "").toLowerCase(Locale.ROOT);
            if (!LOOPBACK_NAMES.contains(name)) throw new HttpError(403, "this server answers requests to 127.0.0.1 or localhost only");
        }
        String origin = ex.getRequestHeaders().getFirst("Origin");
        if (!ex.getRequestMethod().equals("GET") && origin != null && !origin.equals("http://" + host)) {
            throw new HttpError(403, "requests from other sites (" + ModelCatalog.shorten(origin) + ") are refused");
        }
    }

    private void route(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        Map<String, String> q = query(ex);
        Asset asset = assets.get(path.equals("/index.html") ? "/" : path);
        if (asset != null) {
            requireMethod(method, "GET");
            Headers h = ex.getResponseHeaders();
            if (path.equals("/") || path.equals("/index.html")) {
                h.set("Content-Security-Policy", CSP);
                h.set("Referrer-Policy", "no-referrer");
            }
            send(ex, 200, asset.contentType, asset.bytes, "no-cache");
            return;
        }
        switch (path) {
            case "/api/config" -> {
                requireMethod(method, "GET");
                sendJson(ex, 200, config());
            }
            case "/api/status" -> {
                requireMethod(method, "GET");
                Map<String, Object> m = queue.status();
                m.put("sessions", sessions.count());
                sendJson(ex, 200, m);
            }
            case "/api/session" -> {
                requireMethod(method, "POST");
                sendJson(ex, 200, Map.of("session", sessions.create().id));
            }
            case "/api/events" -> {
                requireMethod(method, "GET");
                Sessions.Session s = sessions.require(q.get("session"));
                List<String> initial = new ArrayList<>();
                for (Job j : queue.jobsOf(s.id)) initial.add(JsonOut.write(j.snapshot()));
                sessions.stream(ex, s, initial);
            }
            case "/api/inspect" -> {
                requireMethod(method, "POST");
                String name = fileName(q.get("name"));
                Image image = decode(readBody(ex, name), name);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", name);
                m.put("width", image.width());
                m.put("height", image.height());
                m.put("channels", image.channels());
                m.put("alpha", image.hasAlpha());
                sendJson(ex, 200, m);
            }
            case "/api/jobs" -> {
                if (method.equals("GET")) {
                    Sessions.Session s = sessions.require(q.get("session"));
                    List<Object> list = new ArrayList<>();
                    for (Job j : queue.jobsOf(s.id)) list.add(j.snapshot());
                    sendJson(ex, 200, Map.of("jobs", list));
                    return;
                }
                requireMethod(method, "POST");
                Sessions.Session s = sessions.require(q.get("session"));
                JobSettings settings = JobSettings.parse(q, catalog);
                String name = fileName(q.get("name"));
                byte[] bytes = readBody(ex, name);
                Image image = decode(bytes, name);   // refused now, with the reason, rather than when its turn comes
                Job job = new Job(newId(), s.id, name, bytes, image.width(), image.height(), settings);
                queue.submit(job);
                sendJson(ex, 202, job.snapshot());
            }
            default -> routeJob(ex, method, path, q);
        }
    }

    private void routeJob(HttpExchange ex, String method, String path, Map<String, String> q) throws IOException {
        Matcher m = JOB_PATH.matcher(path);
        if (!m.matches()) throw new HttpError(404, "no such page: " + ModelCatalog.shorten(path));
        Job job = queue.get(m.group(1));
        if (job == null) throw new HttpError(404, "no such job (the server keeps the last " + limits.keepResults() + " results)");
        String action = m.group(3);
        if (action == null) {
            requireMethod(method, "GET");
            sendJson(ex, 200, job.snapshot());
            return;
        }
        switch (action) {
            case "cancel" -> {
                requireMethod(method, "POST");
                if (!job.session.equals(q.get("session"))) throw new HttpError(403, "this job belongs to another page");
                queue.cancel(job, "cancelled");
                sendJson(ex, 200, job.snapshot());
            }
            case "result.png" -> {
                requireMethod(method, "GET");
                Job.Result r = job.result();
                if (r == null || r.png() == null) throw new HttpError(job.expired() ? 410 : 404, job.expired()
                        ? "this result is no longer kept (the server keeps the last " + limits.keepResults() + ")" : "this job has no result (it is " + job.state().json() + ")");
                if (q.containsKey("download")) {
                    ex.getResponseHeaders().set("Content-Disposition", "attachment; filename=\"" + downloadName(job) + "\"");
                }
                send(ex, 200, "image/png", r.png(), "private, max-age=3600");
            }
            default -> {   // input.png, bicubic.png: the input as the model read it, and bicubically upscaled to the output size
                requireMethod(method, "GET");
                byte[] upload = job.upload();
                if (upload == null) throw new HttpError(410, "this job's input is no longer kept");
                Image lr = decode(upload, job.name);
                Image shown = action.equals("input.png") ? lr : Pngs.bicubic(lr, job.outputHeight, job.outputWidth);
                send(ex, 200, "image/png", Pngs.encode(shown, 8), "private, max-age=3600");   // for the eye: 8 bits are enough
            }
        }
    }

    private Map<String, Object> config() {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Object> models = new ArrayList<>();
        for (ModelCatalog.Entry e : catalog.entries()) models.add(e.toJson());
        m.put("models", models);
        m.put("device", Backends.resolve(device).toString());
        m.put("maxPixels", limits.maxPixels());
        m.put("maxUploadBytes", limits.maxUploadBytes());
        m.put("keepResults", limits.keepResults());
        m.put("maxWaiting", limits.maxWaiting());
        m.put("extensions", new java.util.TreeSet<>(ImageFiles.IMAGE_EXTENSIONS));   // what infer takes from a folder: the page's file chooser offers these
        return m;
    }

    private Image decode(byte[] bytes, String name) {
        try {
            decodes.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HttpError(503, "the server is stopping");
        }
        try {
            return ImageFiles.decode(bytes, name, limits.maxPixels());
        } catch (ImageException e) {
            throw new HttpError(e.getMessage().contains("more than the limit") ? 413 : 415, e.getMessage().replace("--max-pixels", "serve --max-pixels"));
        } finally {
            decodes.release();
        }
    }

    /** The request body, refused (413) beyond the upload limit before it is read whole. */
    private byte[] readBody(HttpExchange ex, String name) throws IOException {
        long limit = limits.maxUploadBytes();
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            long n;
            try {
                n = Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                throw new HttpError(400, "bad Content-Length");
            }
            if (n > limit) {
                drain(ex, n);
                throw new HttpError(413, tooLarge(name, n, limit));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        try (InputStream in = ex.getRequestBody()) {
            for (int r; (r = in.read(buf)) > 0; ) {
                if (out.size() + (long) r > limit) {
                    long n = out.size() + (long) r;
                    out = null;
                    n += drain(ex, -1);
                    throw new HttpError(413, tooLarge(name, n, limit));
                }
                out.write(buf, 0, r);
            }
        }
        if (out.size() == 0) throw new HttpError(400, name + ": is empty (0 bytes)");
        return out.toByteArray();
    }

    /**
     * Reads and drops the rest of a refused upload, up to {@link #DRAIN_LIMIT} bytes, so that the
     * client reads the refusal: a server that closes a connection with unread data resets it,
     * and the client sees a broken connection instead of the reason. Returns the bytes dropped.
     */
    private static long drain(HttpExchange ex, long expected) throws IOException {
        if (expected > DRAIN_LIMIT) return 0;   // too much to read: the connection is closed unread (-1: not known, read up to the limit)
        long n = 0;
        byte[] buf = new byte[65536];
        InputStream in = ex.getRequestBody();
        for (int r; n < DRAIN_LIMIT && (r = in.read(buf)) > 0; ) n += r;
        return n;
    }

    private static String tooLarge(String name, long bytes, long limit) {
        return String.format(Locale.ROOT, "%s: the file is %s, more than the upload limit of %s (serve --max-upload-mb)",
                name, megabytes(bytes), megabytes(limit));
    }

    private static String megabytes(long bytes) {
        return String.format(Locale.ROOT, bytes >= 10_000_000 ? "%.0f MB" : "%.1f MB", bytes / 1e6);
    }

    /** A file name for messages and the download's name: printable, no folders, at most 100 characters. */
    static String fileName(String name) {
        if (name == null || name.isBlank()) return "upload";
        String n = name.replace('\\', '/');
        n = n.substring(n.lastIndexOf('/') + 1).replaceAll("[^\\p{L}\\p{N} ._()+-]", "_").trim();
        if (n.isEmpty()) return "upload";
        return n.length() <= 100 ? n : n.substring(0, 100);
    }

    static String downloadName(Job job) {
        String stem = job.name.contains(".") ? job.name.substring(0, job.name.lastIndexOf('.')) : job.name;
        String ascii = stem.replaceAll("[^A-Za-z0-9._-]", "_");
        return (ascii.isEmpty() ? "result" : ascii) + "_x" + job.settings.model().scale() + ".png";
    }

    private static String newId() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void requireMethod(String method, String allowed) {
        if (!method.equals(allowed)) throw new HttpError(405, method + " is not allowed here (use " + allowed + ")");
    }

    private static Map<String, String> query(HttpExchange ex) {
        Map<String, String> q = new LinkedHashMap<>();
        String raw = ex.getRequestURI().getRawQuery();
        if (raw == null || raw.isEmpty()) return q;
        for (String part : raw.split("&")) {
            if (part.isEmpty()) continue;
            int eq = part.indexOf('=');
            try {
                String k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
                q.putIfAbsent(k, v);
            } catch (IllegalArgumentException e) {
                throw new HttpError(400, "a malformed query parameter: " + ModelCatalog.shorten(part));
            }
        }
        return q;
    }

    private static void sendJson(HttpExchange ex, int status, Object body) {
        try {
            send(ex, status, "application/json; charset=utf-8", JsonOut.write(body).getBytes(StandardCharsets.UTF_8), "no-store");
        } catch (IOException e) {
            // the client went away, or the response had begun (an event stream): nothing more to say
        }
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body, String cache) throws IOException {
        Headers h = ex.getResponseHeaders();
        h.set("Content-Type", type);
        h.set("Cache-Control", cache);
        h.set("X-Content-Type-Options", "nosniff");
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Stops taking requests, ends the event streams, cancels the jobs and releases the model. */
    @Override public void close() {
        sessions.close();
        queue.close();
        http.stop(0);
        pool.shutdownNow();
    }
}
