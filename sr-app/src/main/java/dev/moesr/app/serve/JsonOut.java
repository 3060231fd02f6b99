package dev.moesr.app.serve;

import java.util.Collection;
import java.util.Iterator;
import java.util.Map;

/**
 * Compact JSON on one line (server-sent events carry one event per {@code data:} line): maps in
 * their iteration order, collections (in theirs), strings, numbers, booleans and null; NaN and infinities as null.
 */
final class JsonOut {
    private JsonOut() {}

    static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            dev.moesr.nn.io.Json.writeString(s, sb);
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            sb.append(Double.isFinite(d) ? String.valueOf(d) : "null");
        } else if (v instanceof Number || v instanceof Boolean) {
            sb.append(v);
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                dev.moesr.nn.io.Json.writeString(String.valueOf(e.getKey()), sb);
                sb.append(':');
                write(sb, e.getValue());
                if (it.hasNext()) sb.append(',');
            }
            sb.append('}');
        } else if (v instanceof Collection<?> c) {
            sb.append('[');
            boolean first = true;
            for (Object o : c) {
                if (!first) sb.append(',');
                first = false;
                write(sb, o);
            }
            sb.append(']');
        } else {
            dev.moesr.nn.io.Json.writeString(v.toString(), sb);
        }
    }
}
