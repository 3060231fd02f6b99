package dev.moesr.tensor;

/**
 * Where a tensor lives. {@code AUTO} is only a request: {@link dev.moesr.tensor.backend.Backends#resolve}
 * turns it into a concrete device.
 */
public record Device(Kind kind, int index) {
    public enum Kind { CPU, CUDA, AUTO }

    public static final Device CPU = new Device(Kind.CPU, 0);
    public static final Device AUTO = new Device(Kind.AUTO, 0);

    public Device {
        if (index < 0) throw new IllegalArgumentException("device index must be >= 0, got " + index);
    }

    public static Device cuda(int index) { return new Device(Kind.CUDA, index); }

    /** Parses {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}. */
    public static Device parse(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("cpu")) return CPU;
        if (t.equals("auto")) return AUTO;
        if (t.equals("cuda")) return cuda(0);
        if (t.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("unknown device '" + s + "': use auto, cpu, cuda or cuda:N");
    }

    @Override public String toString() {
        return switch (kind) {
            case CPU -> "cpu";
            case AUTO -> "auto";
            case CUDA -> "cuda:" + index;
        };
    }
}
