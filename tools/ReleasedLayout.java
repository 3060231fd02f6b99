import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.unet.UNetLayout;
import dev.moesr.nn.Init;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;

import java.util.Map;
import java.util.stream.Collectors;

/**
 * Prints the names and shapes of a preset in the authors' released layout, the input of
 * tools/make-random-released.py (and of the test fixtures' make_released.py):
 * "unet TAB released UNet name TAB dims" and "first_stage TAB VQModelResiUnet name TAB dims".
 *
 *   java --add-modules jdk.incubator.vector -cp sr-app/target/sr-app.jar tools/ReleasedLayout.java moesr-x8 > layout.tsv
 */
public class ReleasedLayout {
    public static void main(String[] args) {
        MoesrConfig c = MoesrConfig.byName(args.length > 0 ? args[0] : "tiny");
        UNetLayout layout = UNetLayout.of(c.unet());
        Map<String, int[]> shapes = layout.stateShapes();
        StringBuilder out = new StringBuilder();
        for (var e : layout.releasedNames().entrySet()) out.append("unet\t").append(e.getValue()).append('\t').append(dims(shapes.get(e.getKey()))).append('\n');
        FrequencyCompensatedVqModel fs;
        try (Init.Deferral d = Init.deferred(Device.CPU)) {
            fs = new FrequencyCompensatedVqModel(c.vq(), c.decoder(), new Philox(0));
        }
        for (var e : fs.stateDict().entrySet()) out.append("first_stage\t").append(e.getKey()).append('\t').append(dims(e.getValue().dims())).append('\n');
        fs.release();
        System.out.print(out);
    }

    private static String dims(int[] d) {
        return java.util.Arrays.stream(d).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }
}
