package dev.moesr.tensor.cpu;

/**
 * How each CPU kernel with a Vector API version picks it: the vector class when the incubator
 * module was loaded ({@code --add-modules jdk.incubator.vector}), else the scalar instance;
 * {@code -Dmoesr.scalar=true} forces the scalar one. The vector class is loaded by name, so the
 * kernel's own class links without the module.
 */
final class VectorKernels {
    private VectorKernels() {}

    static <T> T choose(Class<T> kind, String vectorClass, T scalar) {
        if (Boolean.getBoolean("moesr.scalar")) return scalar;
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) return scalar;
        try {
            return kind.cast(Class.forName("dev.moesr.tensor.cpu." + vectorClass).getDeclaredConstructor().newInstance());
        } catch (ReflectiveOperationException | LinkageError e) {
            return scalar;
        }
    }
}
