package dev.moesr.cudakernels;

import dev.moesr.tensor.backend.BinaryOp;
import dev.moesr.tensor.backend.ReduceOp;
import dev.moesr.tensor.backend.UnaryOp;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The numbers the Java side passes to the kernels agree with the enums and macros in native/. */
class KernelCodesTest {
    private static final Path NATIVE = Path.of("../native");

    private static Map<String, Integer> constants(String file, String regex) throws IOException {
        String src = Files.readString(NATIVE.resolve(file));
        Matcher m = Pattern.compile(regex).matcher(src);
        Map<String, Integer> out = new HashMap<>();
        while (m.find()) out.put(m.group(1), Integer.parseInt(m.group(2)));
        return out;
    }

    @Test
    void unaryOpCodesMatchUnaryCu() throws IOException {
        Map<String, Integer> codes = constants("unary.cu", "UOP_([A-Z_]+) = (\\d+)");
        assertEquals(UnaryOp.values().length, codes.size(), "unary.cu enum: " + codes);
        for (UnaryOp op : UnaryOp.values()) {
            assertNotNull(codes.get(op.name()), "unary.cu has no UOP_" + op.name());
            assertEquals(codes.get(op.name()), CudaBackend.unaryCode(op), op.name());
        }
    }

    @Test
    void binaryOpCodesMatchBinaryCu() throws IOException {
        Map<String, Integer> codes = constants("binary.cu", "BOP_([A-Z_]+) = (\\d+)");
        assertEquals(BinaryOp.values().length, codes.size(), "binary.cu enum: " + codes);
        for (BinaryOp op : BinaryOp.values()) assertEquals(codes.get(op.name()), CudaBackend.binaryCode(op), op.name());
    }

    @Test
    void reduceOpCodesMatchReduceCu() throws IOException {
        Map<String, Integer> codes = constants("reduce.cu", "ROP_([A-Z_]+) = (\\d+)");
        assertEquals(ReduceOp.values().length, codes.size(), "reduce.cu enum: " + codes);
        for (ReduceOp op : ReduceOp.values()) assertEquals(codes.get(op.name()), CudaBackend.reduceCode(op), op.name());
    }

    @Test
    void maxRankAndErrorBitsMatchCommonCuh() throws IOException {
        Map<String, Integer> defs = constants("common.cuh", "#define (MOESR_[A-Z_]+) (\\d+)");
        assertEquals(StridedLayout.MAX_RANK, defs.get("MOESR_MAX_RANK"));
        assertEquals(1, defs.get("MOESR_ERR_INDEX_SELECT"));
        assertEquals(2, defs.get("MOESR_ERR_GATHER"));
    }
}
