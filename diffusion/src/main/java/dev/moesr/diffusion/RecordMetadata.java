package dev.moesr.diffusion;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.ParameterizedType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Writes a configuration record as safetensors metadata entries {@code <prefix>.<component>}
 * and reads it back, for records whose components are int, long, float, double, boolean,
 * String or List&lt;Integer&gt; (lists as comma-separated numbers).
 */
public final class RecordMetadata {
    private RecordMetadata() {}

    public static Map<String, String> write(String prefix, Record r) {
        Map<String, String> out = new LinkedHashMap<>();
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Object v;
            try {
                v = c.getAccessor().invoke(r);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            String s = v instanceof List<?> l ? String.join(",", l.stream().map(String::valueOf).toList()) : String.valueOf(v);
            out.put(prefix + "." + c.getName(), s);
        }
        return out;
    }

    public static <R extends Record> R read(String prefix, Class<R> type, Map<String, String> metadata) {
        RecordComponent[] cs = type.getRecordComponents();
        List<String> names = Arrays.stream(cs).map(RecordComponent::getName).toList();
        TreeSet<String> unknown = new TreeSet<>();
        for (String k : metadata.keySet()) {
            if (k.startsWith(prefix + ".") && !names.contains(k.substring(prefix.length() + 1))) unknown.add(k);
        }
        if (!unknown.isEmpty()) throw new IllegalArgumentException("unknown configuration keys " + unknown + "; known: " + prefix + "." + String.join(", " + prefix + ".", names));
        Object[] args = new Object[cs.length];
        Class<?>[] types = new Class<?>[cs.length];
        for (int i = 0; i < cs.length; i++) {
            String key = prefix + "." + cs[i].getName();
            String v = metadata.get(key);
            if (v == null) throw new IllegalArgumentException("the configuration has no entry '" + key + "'");
            types[i] = cs[i].getType();
            try {
                args[i] = parse(cs[i], v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("configuration entry '" + key + "' = '" + v + "' is not a valid " + cs[i].getGenericType().getTypeName(), e);
            }
        }
        try {
            Constructor<R> ctor = type.getDeclaredConstructor(types);
            return ctor.newInstance(args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof IllegalArgumentException iae) throw iae;
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object parse(RecordComponent c, String v) {
        Class<?> t = c.getType();
        if (t == int.class) return Integer.parseInt(v);
        if (t == long.class) return Long.parseLong(v);
        if (t == float.class) return Float.parseFloat(v);
        if (t == double.class) return Double.parseDouble(v);
        if (t == boolean.class) {
            if (!v.equals("true") && !v.equals("false")) throw new NumberFormatException("not a boolean");
            return Boolean.parseBoolean(v);
        }
        if (t == String.class) return v;
        if (t == List.class && c.getGenericType() instanceof ParameterizedType p && p.getActualTypeArguments()[0] == Integer.class) {
            List<Integer> l = new ArrayList<>();
            if (!v.isEmpty()) for (String s : v.split(",")) l.add(Integer.parseInt(s.trim()));
            return l;
        }
        throw new IllegalStateException("unsupported configuration component type " + c.getGenericType());
    }
}
