package dev.moesr.app.image;

import java.util.Arrays;

/**
 * An image as the application computes with it: colour planes stored planar ([channel][y][x])
 * in one float array with values in [0, 1], gray (1 channel) or RGB (3 channels), and an
 * optional alpha plane kept apart ([y][x]) so that no colour operation (blur, noise, JPEG,
 * metrics) ever touches it by accident. Whoever resizes the colour resizes the alpha on its
 * own (bicubically, see {@link #resizeAlpha}).
 *
 * <p>The arrays are shared, not copied: an Image is a view of its arrays, and the methods that
 * return a new Image (crop, flips) copy.
 *
 * <p>An image also remembers the bit depth of the file it came from ({@link #bitDepth}: 8, or 16
 * for 16-bit PNG and TIFF), so that {@link ImageFiles#write} gives a 16-bit source a 16-bit PNG
 * back. It is a note on how to store the values, not a property of them: every method that
 * derives an image from this one keeps it, and whoever makes a fresh image from another's
 * pixels (a super-resolved output, a degraded input) carries it with {@link #withBitDepth}.
 */
public final class Image {
    private final int channels;
    private final int height;
    private final int width;
    private final float[] pixels;
    private final float[] alpha;
    private final int bitDepth;

    /** An image whose values were (or will be) stored with 8 bits per sample. */
    public Image(int channels, int height, int width, float[] pixels, float[] alpha) {
        this(channels, height, width, pixels, alpha, 8);
    }

    /** An image that remembers the bit depth of its source file: 8, or 16 (see {@link #bitDepth}). */
    public Image(int channels, int height, int width, float[] pixels, float[] alpha, int bitDepth) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("an image has 1 (gray) or 3 (RGB) colour channels, not " + channels
                    + " (alpha travels separately)");
        }
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("an image needs at least one pixel, got " + height + "x" + width);
        }
        long n = (long) channels * height * width;
        if (pixels == null || pixels.length != n) {
            throw new IllegalArgumentException((pixels == null ? "no" : String.valueOf(pixels.length)) + " values for a "
                    + channels + "x" + height + "x" + width + " image (" + n + " needed)");
        }
        if (alpha != null && alpha.length != (long) height * width) {
            throw new IllegalArgumentException(alpha.length + " alpha values for a " + height + "x" + width + " image");
        }
        if (bitDepth != 8 && bitDepth != 16) {
            throw new IllegalArgumentException("an image remembers a bit depth of 8 or 16, not " + bitDepth);
        }
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.pixels = pixels;
        this.alpha = alpha;
        this.bitDepth = bitDepth;
    }

    /** An image without alpha. */
    public Image(int channels, int height, int width, float[] pixels) {
        this(channels, height, width, pixels, null);
    }

    public int channels() { return channels; }

    public int height() { return height; }

    public int width() { return width; }

    /** The colour planes, [channel][y][x] flattened; shared, not copied. */
    public float[] pixels() { return pixels; }

    /** The alpha plane [y][x], or null when the image is opaque; shared, not copied. */
    public float[] alpha() { return alpha; }

    public boolean hasAlpha() { return alpha != null; }

    /**
     * The bits per sample of the file this image was read from (8 or 16), which {@link
     * ImageFiles#write} uses for PNG output; 8 for images made in memory.
     */
    public int bitDepth() { return bitDepth; }

    /** The same pixels (shared), to be stored with {@code bits} (8 or 16) bits per sample. */
    public Image withBitDepth(int bits) {
        return bits == bitDepth ? this : new Image(channels, height, width, pixels, alpha, bits);
    }

    public long pixelCount() { return (long) height * width; }

    public float get(int channel, int y, int x) { return pixels[(channel * height + y) * width + x]; }

    public String sizeText() { return width + "x" + height; }

    /** The same image with every value clamped to [0, 1] (a bicubic resize overshoots at edges). */
    public Image clamped() {
        float[] p = pixels.clone();
        for (int i = 0; i < p.length; i++) p[i] = Math.min(1f, Math.max(0f, p[i]));
        return new Image(channels, height, width, p, alpha, bitDepth);
    }

    public Image withAlpha(float[] newAlpha) { return new Image(channels, height, width, pixels, newAlpha, bitDepth); }

    public Image withoutAlpha() { return alpha == null ? this : new Image(channels, height, width, pixels, null, bitDepth); }

    /** The same pixels as RGB: a gray image gets its plane three times. */
    public Image toRgb() {
        if (channels == 3) return this;
        float[] rgb = new float[3 * height * width];
        for (int c = 0; c < 3; c++) System.arraycopy(pixels, 0, rgb, c * height * width, height * width);
        return new Image(3, height, width, rgb, alpha, bitDepth);
    }

    /** A copy of the rectangle at (top, left) of size h x w (alpha included). */
    public Image crop(int top, int left, int h, int w) {
        if (top < 0 || left < 0 || h < 1 || w < 1 || top + h > height || left + w > width) {
            throw new IllegalArgumentException("crop " + w + "x" + h + " at (x " + left + ", y " + top + ") does not fit in a "
                    + width + "x" + height + " image");
        }
        return new Image(channels, h, w, cropPlanes(pixels, channels, top, left, h, w),
                alpha == null ? null : cropPlanes(alpha, 1, top, left, h, w), bitDepth);
    }

    private float[] cropPlanes(float[] src, int planes, int top, int left, int h, int w) {
        float[] out = new float[planes * h * w];
        for (int c = 0; c < planes; c++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(src, (c * height + top + y) * width + left, out, (c * h + y) * w, w);
            }
        }
        return out;
    }

    /** Crops the bottom and right edges so that both sides are multiples of {@code multiple}. */
    public Image cropToMultipleOf(int multiple) {
        if (multiple < 1) throw new IllegalArgumentException("multiple must be positive, got " + multiple);
        int h = height / multiple * multiple, w = width / multiple * multiple;
        if (h == 0 || w == 0) {
            throw new IllegalArgumentException("a " + sizeText() + " image is smaller than the scale " + multiple
                    + " on one side; it needs at least " + multiple + "x" + multiple + " pixels");
        }
        return h == height && w == width ? this : crop(0, 0, h, w);
    }

    /** Mirror left-right (alpha included). */
    public Image flipHorizontal() {
        return new Image(channels, height, width, flipRows(pixels, channels), alpha == null ? null : flipRows(alpha, 1), bitDepth);
    }

    private float[] flipRows(float[] src, int planes) {
        float[] out = new float[src.length];
        for (int row = 0; row < planes * height; row++) {
            int o = row * width;
            for (int x = 0; x < width; x++) out[o + x] = src[o + width - 1 - x];
        }
        return out;
    }

    /** Mirror top-bottom (alpha included). */
    public Image flipVertical() {
        return new Image(channels, height, width, flipColumns(pixels, channels), alpha == null ? null : flipColumns(alpha, 1),
                bitDepth);
    }

    private float[] flipColumns(float[] src, int planes) {
        float[] out = new float[src.length];
        for (int c = 0; c < planes; c++) {
            for (int y = 0; y < height; y++) {
                System.arraycopy(src, (c * height + y) * width, out, (c * height + height - 1 - y) * width, width);
            }
        }
        return out;
    }

    /** Swap x and y (alpha included); with a flip this gives the 90 degree rotations. */
    public Image transpose() {
        return new Image(channels, width, height, transposePlanes(pixels, channels), alpha == null ? null : transposePlanes(alpha, 1),
                bitDepth);
    }

    private float[] transposePlanes(float[] src, int planes) {
        float[] out = new float[src.length];
        for (int c = 0; c < planes; c++) {
            int base = c * height * width;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) out[base + x * height + y] = src[base + y * width + x];
            }
        }
        return out;
    }

    /**
     * The image as a viewer shows a file with this EXIF orientation tag (1..8), in one copy:
     * 1 as stored, 2 mirrored left-right, 3 turned 180 degrees, 4 mirrored top-bottom, 5
     * transposed (mirrored along the top-left to bottom-right diagonal), 6 turned 90 degrees
     * clockwise, 7 transversed (mirrored along the other diagonal), 8 turned 90 degrees
     * anticlockwise. In the standard's words, the stored row 0 is the shown top (1, 2), bottom
     * (3, 4), left side (5, 8) or right side (6, 7). Any other value is taken as 1.
     */
    public Image oriented(int orientation) {
        if (orientation < 2 || orientation > 8) return this;
        boolean swap = orientation >= 5;
        int outH = swap ? width : height, outW = swap ? height : width;
        return new Image(channels, outH, outW, orientPlanes(pixels, channels, orientation, outH, outW),
                alpha == null ? null : orientPlanes(alpha, 1, orientation, outH, outW), bitDepth);
    }

    private float[] orientPlanes(float[] src, int planes, int orientation, int outH, int outW) {
        float[] out = new float[src.length];
        int plane = height * width;
        for (int c = 0; c < planes; c++) {
            int base = c * plane;
            for (int y = 0; y < outH; y++) {
                int o = base + y * outW;
                for (int x = 0; x < outW; x++) {
                    // the stored (row, column) shown at (y, x)
                    int sy, sx;
                    switch (orientation) {
                        case 2 -> { sy = y; sx = width - 1 - x; }
                        case 3 -> { sy = height - 1 - y; sx = width - 1 - x; }
                        case 4 -> { sy = height - 1 - y; sx = x; }
                        case 5 -> { sy = x; sx = y; }
                        case 6 -> { sy = height - 1 - x; sx = y; }
                        case 7 -> { sy = height - 1 - x; sx = width - 1 - y; }
                        default -> { sy = x; sx = width - 1 - y; }   // 8
                    }
                    out[o + x] = src[base + sy * width + sx];
                }
            }
        }
        return out;
    }

    /**
     * The alpha plane resized to outH x outW with MATLAB bicubic (the same filter as the
     * colour of a bicubic downscale), clamped to [0, 1] since cubic weights overshoot; null
     * when the image has no alpha.
     */
    public float[] resizeAlpha(int outH, int outW) {
        if (alpha == null) return null;
        if (outH == height && outW == width) return alpha.clone();
        float[] a = MatlabResize.resizeTo(alpha, 1, height, width, outH, outW);
        for (int i = 0; i < a.length; i++) a[i] = Math.min(1f, Math.max(0f, a[i]));
        return a;
    }

    /** Throws when a value is NaN or infinite (they would be written as black or white without a word). */
    public void requireFinite(String what) {
        for (int i = 0; i < pixels.length; i++) {
            if (!Float.isFinite(pixels[i])) {
                throw new IllegalArgumentException(what + ": value " + pixels[i] + " at channel " + i / (height * width)
                        + ", y " + i % (height * width) / width + ", x " + i % width + "; images must hold finite values");
            }
        }
        if (alpha != null) {
            for (float a : alpha) {
                if (!Float.isFinite(a)) throw new IllegalArgumentException(what + ": alpha value " + a + "; alpha must be finite");
            }
        }
    }

    @Override public String toString() {
        return "Image[" + (channels == 1 ? "gray" : "RGB") + (alpha != null ? "+alpha" : "") + " " + sizeText()
                + (bitDepth != 8 ? " " + bitDepth + "-bit" : "") + "]";
    }

    /** True when both hold the same size, channels and exactly the same values (the remembered bit depth aside). */
    public boolean sameAs(Image o) {
        return o.channels == channels && o.height == height && o.width == width && Arrays.equals(o.pixels, pixels)
                && Arrays.equals(o.alpha, alpha);
    }
}
