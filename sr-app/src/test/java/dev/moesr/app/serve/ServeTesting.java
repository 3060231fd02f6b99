package dev.moesr.app.serve;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.tensor.Philox;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** What the serve tests share: the tiny model, a small photo, HTTP calls and a small JSON reader. */
final class ServeTesting {
    private ServeTesting() {}

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** The untrained tiny preset (4x), saved as a model file. */
    static Path tinyModel(Path file, long seed) throws IOException {
        MoesrModel m = new MoesrModel(MoesrConfig.tiny(), new Philox(seed));
        try {
            m.save(file);
        } finally {
            m.release();
        }
        return file;
    }

    /** A {@code side x side} RGB crop of a real photograph. */
    static Image photo(int side) throws Exception {
        Image full = ImageFiles.read(Path.of(ServeTesting.class.getResource("/photos/astronaut_0.png").toURI()));
        return full.toRgb().withoutAlpha().crop(40, 40, side, side);
    }

    record Response(int status, Map<String, List<String>> headers, byte[] body) {
        String text() { return new String(body, StandardCharsets.UTF_8); }

        @SuppressWarnings("unchecked")
        Map<String, Object> json() { return (Map<String, Object>) Json.parse(text()); }

        String error() { return (String) json().get("error"); }

        String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) if (e.getKey().equalsIgnoreCase(name)) return e.getValue().get(0);
            return null;
        }
    }

    static Response get(URI base, String path) throws Exception {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET());
    }

    static Response post(URI base, String path, byte[] body) throws Exception {
        return send(HttpRequest.newBuilder(base.resolve(path)).POST(body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    static Response send(HttpRequest.Builder b) throws Exception {
        HttpResponse<byte[]> r = HTTP.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Response(r.statusCode(), r.headers().map(), r.body());
    }

    /** Waits up to {@code seconds} for the condition; false if it never held. */
    static boolean waitFor(double seconds, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            if (condition.getAsBoolean()) return true;
            Thread.sleep(25);
        }
        return condition.getAsBoolean();
    }

    /** A JSON reader for the server's answers: objects as LinkedHashMaps, arrays as Lists, numbers as Doubles. */
    static final class Json {
        private final String s;
        private int pos;

        private Json(String s) { this.s = s; }

        static Object parse(String text) {
            Json p = new Json(text);
            Object v = p.value();
            p.space();
            if (p.pos != text.length()) throw new IllegalArgumentException("text after the JSON value at " + p.pos + ": " + text);
            return v;
        }

        private void space() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) pos++;
        }

        private Object value() {
            space();
            char c = s.charAt(pos);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                pos++;
                space();
                if (s.charAt(pos) == '}') { pos++; return m; }
                while (true) {
                    space();
                    String k = string();
                    space();
                    expect(':');
                    m.put(k, value());
                    space();
                    if (s.charAt(pos) == ',') { pos++; continue; }
                    expect('}');
                    return m;
                }
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                pos++;
                space();
                if (s.charAt(pos) == ']') { pos++; return l; }
                while (true) {
                    l.add(value());
                    space();
                    if (s.charAt(pos) == ',') { pos++; continue; }
                    expect(']');
                    return l;
                }
            }
            if (c == '"') return string();
            if (s.startsWith("true", pos)) { pos += 4; return Boolean.TRUE; }
            if (s.startsWith("false", pos)) { pos += 5; return Boolean.FALSE; }
            if (s.startsWith("null", pos)) { pos += 4; return null; }
            int start = pos;
            while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) pos++;
            return Double.parseDouble(s.substring(start, pos));
        }

        private void expect(char c) {
            if (s.charAt(pos) != c) throw new IllegalArgumentException("expected '" + c + "' at " + pos + " in " + s);
            pos++;
        }

        private String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = s.charAt(pos++);
                if (c == '"') return sb.toString();
                if (c != '\\') { sb.append(c); continue; }
                char e = s.charAt(pos++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'u' -> { sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16)); pos += 4; }
                    default -> sb.append(e);
                }
            }
        }
    }

    /**
     * A page's event stream over a plain socket, so that a test can drop the connection the way a
     * closed tab does. The job events are collected as they come.
     */
    static final class EventStream implements AutoCloseable {
        private final Socket socket;
        private final Thread reader;
        final List<Map<String, Object>> events = Collections.synchronizedList(new ArrayList<>());
        volatile int status;

        EventStream(URI base, String session) throws IOException {
            socket = new Socket(base.getHost(), base.getPort());
            OutputStream out = socket.getOutputStream();
            out.write(("GET /api/events?session=" + session + " HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort()
                    + "\r\nAccept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            reader = new Thread(this::read, "test-event-stream");
            reader.setDaemon(true);
            reader.start();
        }

        @SuppressWarnings("unchecked")
        private void read() {
            try {
                InputStream in = socket.getInputStream();
                String statusLine = line(in);
                status = Integer.parseInt(statusLine.split(" ")[1]);
                boolean chunked = false;
                for (String h; !(h = line(in)).isEmpty(); ) {
                    if (h.toLowerCase(java.util.Locale.ROOT).startsWith("transfer-encoding:") && h.toLowerCase(java.util.Locale.ROOT).contains("chunked")) chunked = true;
                }
                if (!chunked) return;
                StringBuilder text = new StringBuilder();
                while (true) {
                    int size = Integer.parseInt(line(in).trim(), 16);
                    if (size == 0) return;
                    text.append(new String(in.readNBytes(size), StandardCharsets.UTF_8));
                    line(in);
                    int end;
                    while ((end = text.indexOf("\n\n")) >= 0) {
                        String event = text.substring(0, end);
                        text.delete(0, end + 2);
                        if (event.startsWith("event: job\ndata: ")) events.add((Map<String, Object>) Json.parse(event.substring("event: job\ndata: ".length())));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // closed
            }
        }

        private static String line(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int c; (c = in.read()) != '\n'; ) {
                if (c < 0) throw new IOException("end of stream");
                if (c != '\r') b.write(c);
            }
            return b.toString(StandardCharsets.UTF_8);
        }

        /** The latest event of a job, or null. */
        Map<String, Object> latest(String jobId) {
            synchronized (events) {
                for (int i = events.size() - 1; i >= 0; i--) if (jobId.equals(events.get(i).get("id"))) return events.get(i);
            }
            return null;
        }

        List<Map<String, Object>> of(String jobId) {
            List<Map<String, Object>> out = new ArrayList<>();
            synchronized (events) {
                for (Map<String, Object> e : events) if (jobId.equals(e.get("id"))) out.add(e);
            }
            return out;
        }

        @Override public void close() throws IOException { socket.close(); }
    }
}
