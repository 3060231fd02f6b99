package dev.moesr.diffusion.unet;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The shape of the denoising UNet (LDM's "openai" UNetModel without scale-shift norm, with
 * convolutional resampling, legacy attention order and heads of {@code headChannels} channels),
 * plus the number of Space-MoE experts after each attention block (0: the plain LDM UNet).
 *
 * @param name            a label (the preset's name, or anything)
 * @param inChannels      input channels (z_t and the condition concatenated: 3 + 3 for the method)
 * @param outChannels     predicted-noise channels
 * @param modelChannels   base width; the time embedding is 4x as wide
 * @param channelMult     width multiplier of each level (one level per entry; each but the last ends with a 2x downsample)
 * @param numResBlocks    ResBlocks per level on the way down (one more on the way up)
 * @param attentionRates  downsample rates (1, 2, 4, ...) at which ResBlocks are followed by attention
 * @param headChannels    channels per attention head (heads = C / headChannels)
 * @param spaceExperts    feed-forward experts per Space-MoE layer; 0 for no MoE layers
 * @param dropout         dropout rate inside the ResBlocks
 */
public record UNetConfig(String name, int inChannels, int outChannels, int modelChannels, int[] channelMult, int numResBlocks,
                         int[] attentionRates, int headChannels, int spaceExperts, float dropout) {

    /** GroupNorm32 everywhere: every width must split into 32 groups. */
    public static final int NORM_GROUPS = 32;

    public UNetConfig {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a UNet configuration needs a name");
        if (inChannels <= 0 || outChannels <= 0) {
            throw new IllegalArgumentException("UNet '" + name + "': input and output channels must be positive, got " + inChannels + " and " + outChannels);
        }
        if (channelMult == null || channelMult.length == 0) throw new IllegalArgumentException("UNet '" + name + "': channel multipliers must list at least one level");
        if (attentionRates == null) throw new IllegalArgumentException("UNet '" + name + "': attention rates must be given (may be empty)");
        channelMult = channelMult.clone();
        attentionRates = attentionRates.clone();
        if (numResBlocks < 1) throw new IllegalArgumentException("UNet '" + name + "': needs at least one ResBlock per level, got " + numResBlocks);
        if (headChannels <= 0) throw new IllegalArgumentException("UNet '" + name + "': head channels must be positive, got " + headChannels);
        if (spaceExperts < 0) throw new IllegalArgumentException("UNet '" + name + "': the number of space experts must be >= 0, got " + spaceExperts);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("UNet '" + name + "': dropout must be in [0, 1), got " + dropout);
        if (modelChannels <= 0) throw new IllegalArgumentException("UNet '" + name + "': model channels must be positive, got " + modelChannels);
        for (int m : channelMult) {
            int c = m * modelChannels;
            if (m <= 0 || c % NORM_GROUPS != 0) {
                throw new IllegalArgumentException("UNet '" + name + "': every level width (model channels x multiplier) must be a positive multiple of "
                        + NORM_GROUPS + " for GroupNorm32; " + modelChannels + " x " + m + " = " + c + " is not (multipliers " + Arrays.toString(channelMult) + ")");
            }
        }
        for (int r : attentionRates) {
            if (r <= 0 || Integer.bitCount(r) != 1) {
                throw new IllegalArgumentException("UNet '" + name + "': attention rates are downsample factors (1, 2, 4, ...), got " + Arrays.toString(attentionRates));
            }
        }
        for (int level = 0; level < channelMult.length; level++) {
            int c = channelMult[level] * modelChannels;
            boolean attends = hasRate(attentionRates, 1 << level) || level == channelMult.length - 1;   // the middle block always attends
            if (attends && c % headChannels != 0) {
                throw new IllegalArgumentException("UNet '" + name + "': attention at level " + level + " has " + c + " channels, not a multiple of "
                        + headChannels + " head channels");
            }
        }
    }

    private static boolean hasRate(int[] rates, int ds) {
        for (int r : rates) if (r == ds) return true;
        return false;
    }

    /** The released 8x model (CompVis bsr_sr shape, channel multipliers [1,2,2,4]) with its 16 space experts. */
    public static UNetConfig moesrX8() {
        return new UNetConfig("moesr-x8", 6, 3, 160, new int[] {1, 2, 2, 4}, 2, new int[] {16, 8}, 32, 16, 0f);
    }

    /** The paper's 4x model (Table 7: channel multipliers [1,2,4,4]) with the paper's 4 space experts. */
    public static UNetConfig moesrX4() {
        return new UNetConfig("moesr-x4", 6, 3, 160, new int[] {1, 2, 4, 4}, 2, new int[] {16, 8}, 32, 4, 0f);
    }

    /** A small model that runs in milliseconds on a CPU: two levels of 32 and 64 channels, attention and 4 experts at the second. */
    public static UNetConfig tiny() {
        return new UNetConfig("tiny", 6, 3, 32, new int[] {1, 2}, 1, new int[] {2}, 32, 4, 0f);
    }

    /** The shipped default's UNet (docs/default-model.md): three levels, attention and 4 space experts at the coarsest. */
    public static UNetConfig moesrX4Small() {
        return new UNetConfig("moesr-x4-small", 6, 3, 32, new int[] {1, 2, 3}, 1, new int[] {4}, 32, 4, 0f);
    }

    /** The names {@link #byName} knows. */
    public static List<String> presetNames() { return List.of("moesr-x8", "moesr-x4", "moesr-x4-small", "tiny"); }

    /** A preset by name: moesr-x8, moesr-x4 or tiny. */
    public static UNetConfig byName(String name) {
        return switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "moesr-x8" -> moesrX8();
            case "moesr-x4" -> moesrX4();
            case "moesr-x4-small" -> moesrX4Small();
            case "tiny" -> tiny();
            default -> throw new IllegalArgumentException("unknown UNet configuration '" + name + "'; known: " + presetNames());
        };
    }

    /** The same shape with {@code n} space experts per MoE layer (0 removes the MoE layers). */
    public UNetConfig withSpaceExperts(int n) {
        return new UNetConfig(name, inChannels, outChannels, modelChannels, channelMult, numResBlocks, attentionRates, headChannels, n, dropout);
    }

    public UNetConfig withDropout(float p) {
        return new UNetConfig(name, inChannels, outChannels, modelChannels, channelMult, numResBlocks, attentionRates, headChannels, spaceExperts, p);
    }

    /** Whether the two configurations build the same weights (they may differ in name and dropout). */
    public boolean sameArchitecture(UNetConfig o) {
        return inChannels == o.inChannels && outChannels == o.outChannels && modelChannels == o.modelChannels
                && Arrays.equals(channelMult, o.channelMult) && numResBlocks == o.numResBlocks && Arrays.equals(attentionRates, o.attentionRates)
                && headChannels == o.headChannels && spaceExperts == o.spaceExperts;
    }

    /** Width of the timestep embedding after time_embed: 4 x model channels. */
    public int timeEmbedChannels() { return 4 * modelChannels; }

    public int levels() { return channelMult.length; }

    /** Whether ResBlocks at downsample rate {@code ds} are followed by attention. */
    public boolean attendsAt(int ds) { return hasRate(attentionRates, ds); }

    /** The factor by which the deepest level is smaller: input height and width must be multiples of it. */
    public int downsampleFactor() { return 1 << (channelMult.length - 1); }

    @Override public int[] channelMult() { return channelMult.clone(); }

    @Override public int[] attentionRates() { return attentionRates.clone(); }

    // ---- metadata -----------------------------------------------------------------------------

    private static final String PREFIX = "unet.";
    private static final List<String> KEYS = List.of("name", "in_channels", "out_channels", "model_channels", "channel_mult", "num_res_blocks",
            "attention_rates", "head_channels", "space_experts", "dropout");

    /** The configuration as safetensors metadata entries, keys {@code unet.<field>} (LDM's parameter names). */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(PREFIX + "name", name);
        m.put(PREFIX + "in_channels", Integer.toString(inChannels));
        m.put(PREFIX + "out_channels", Integer.toString(outChannels));
        m.put(PREFIX + "model_channels", Integer.toString(modelChannels));
        m.put(PREFIX + "channel_mult", join(channelMult));
        m.put(PREFIX + "num_res_blocks", Integer.toString(numResBlocks));
        m.put(PREFIX + "attention_rates", join(attentionRates));
        m.put(PREFIX + "head_channels", Integer.toString(headChannels));
        m.put(PREFIX + "space_experts", Integer.toString(spaceExperts));
        m.put(PREFIX + "dropout", Float.toString(dropout));
        return m;
    }

    /** Reads {@link #toMetadata}'s entries (other keys are ignored; a missing or unknown {@code unet.} key is an error). */
    public static UNetConfig fromMetadata(Map<String, String> metadata) {
        TreeSet<String> unknown = new TreeSet<>();
        for (String k : metadata.keySet()) if (k.startsWith(PREFIX) && !KEYS.contains(k.substring(PREFIX.length()))) unknown.add(k);
        if (!unknown.isEmpty()) throw new IllegalArgumentException("unknown UNet configuration keys " + unknown + "; known: unet." + String.join(", unet.", KEYS));
        for (String k : KEYS) {
            if (!metadata.containsKey(PREFIX + k)) {
                throw new IllegalArgumentException("the metadata has no UNet configuration entry '" + PREFIX + k + "' (it holds " + new TreeSet<>(metadata.keySet()) + ")");
            }
        }
        try {
            return new UNetConfig(metadata.get(PREFIX + "name"), intOf(metadata, "in_channels"), intOf(metadata, "out_channels"),
                    intOf(metadata, "model_channels"), intsOf(metadata, "channel_mult"), intOf(metadata, "num_res_blocks"),
                    intsOf(metadata, "attention_rates"), intOf(metadata, "head_channels"), intOf(metadata, "space_experts"),
                    Float.parseFloat(metadata.get(PREFIX + "dropout").trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a UNet configuration entry is not a number: " + e.getMessage(), e);
        }
    }

    private static int intOf(Map<String, String> m, String key) { return Integer.parseInt(m.get(PREFIX + key).trim()); }

    private static int[] intsOf(Map<String, String> m, String key) {
        String v = m.get(PREFIX + key).trim();
        if (v.isEmpty()) return new int[0];
        return Arrays.stream(v.split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    }

    private static String join(int[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ",").append(v[i]);
        return sb.toString();
    }

    // ---- value semantics with arrays ------------------------------------------------------------

    @Override public boolean equals(Object o) {
        return o instanceof UNetConfig c && name.equals(c.name) && inChannels == c.inChannels && outChannels == c.outChannels
                && modelChannels == c.modelChannels && Arrays.equals(channelMult, c.channelMult) && numResBlocks == c.numResBlocks
                && Arrays.equals(attentionRates, c.attentionRates) && headChannels == c.headChannels && spaceExperts == c.spaceExperts
                && Float.compare(dropout, c.dropout) == 0;
    }

    @Override public int hashCode() {
        return ((name.hashCode() * 31 + modelChannels) * 31 + Arrays.hashCode(channelMult)) * 31 + spaceExperts;
    }

    @Override public String toString() {
        return "UNetConfig(" + name + ": in " + inChannels + ", out " + outChannels + ", channels " + modelChannels + " x " + Arrays.toString(channelMult)
                + ", " + numResBlocks + " res blocks, attention at " + Arrays.toString(attentionRates) + ", " + headChannels + " head channels, "
                + spaceExperts + " space experts" + (dropout > 0 ? ", dropout " + dropout : "") + ")";
    }
}
