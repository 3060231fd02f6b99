package dev.moesr.app.image;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import java.awt.image.ColorConvertOp;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.WritableRaster;

/**
 * The colour rule of {@link ImageFiles}: whatever a file's colour space, its pixels become sRGB
 * on read (gray stays gray, its values encoded with sRGB's curve). An embedded ICC profile
 * (Display-P3, Adobe RGB, a gray profile) is converted with the JDK's colour management
 * (LittleCMS, colorimetric, through 16-bit samples), and a PNG gAMA other than sRGB's 1/2.2 is
 * undone to linear light and encoded with the sRGB curve. Alpha is never touched.
 */
final class SrgbConversion {
    private SrgbConversion() {}

    private static final ColorSpace SRGB = ColorSpace.getInstance(ColorSpace.CS_sRGB);

    /** PNG gAMA values this close to sRGB's 1/2.2 (0.45455) are taken as sRGB, as libpng does. */
    static final double SRGB_GAMMA = 0.45455, GAMMA_TOLERANCE = 0.005;

    /** Rows converted at a time: keeps the 16-bit buffers small for large photos. */
    private static final int STRIP_ROWS = 256;

    /**
     * True when the profile maps colours to sRGB's values within half an 8-bit level (an sRGB
     * profile by another maker, or a standard gray), judged by converting a few probe colours
     * rather than by the profile's name.
     */
    static boolean isSrgbLike(ICC_Profile profile) {
        ColorSpace cs = new ICC_ColorSpace(profile);
        if (cs.isCS_sRGB()) return true;
        int n = cs.getNumComponents();
        if (n != 1 && n != 3) return false;
        float[] probes = {0f, 0.02f, 0.1f, 0.25f, 0.5f, 0.75f, 0.9f, 1f};
        int count = n == 1 ? probes.length : probes.length * 3 + 1;
        float[] planes = new float[n * count];
        for (int i = 0; i < count; i++) {
            for (int c = 0; c < n; c++) {
                // RGB: each primary on its own at every probe level, then a mixed colour
                float v = n == 1 ? probes[i] : i == count - 1 ? (c == 0 ? 0.8f : c == 1 ? 0.4f : 0.2f)
                        : (i / probes.length == c ? probes[i % probes.length] : 0f);
                planes[c * count + i] = v;
            }
        }
        float[] out = convert(planes, n, 1, count, profile);
        if (out == null) return false;
        for (int i = 0; i < planes.length; i++) {
            if (Math.abs(out[i] - planes[i]) > 0.5f / 255) return false;
        }
        return true;
    }

    /**
     * The image's colour planes converted from the profile's space to sRGB; the image itself when
     * the profile is sRGB-like or does not fit the image (an RGB profile on a gray image), as a
     * viewer would ignore it.
     */
    static Image fromProfile(Image image, ICC_Profile profile) {
        if (profile == null || isSrgbLike(profile)) return image;
        int n = new ICC_ColorSpace(profile).getNumComponents();
        if (n != image.channels()) return image;
        float[] out = convert(image.pixels(), n, image.height(), image.width(), profile);
        if (out == null) return image;
        return new Image(image.channels(), image.height(), image.width(), out, image.alpha(), image.bitDepth());
    }

    /**
     * Planar values (n = 1 or 3 planes of h x w) in the profile's space converted to sRGB, n
     * planes again (a gray profile gives the mean of the neutral sRGB result); null when the JDK
     * cannot use the profile.
     */
    private static float[] convert(float[] planes, int n, int h, int w, ICC_Profile profile) {
        ColorSpace src;
        try {
            src = new ICC_ColorSpace(profile);
        } catch (RuntimeException e) {
            return null;
        }
        int plane = h * w;
        float[] out = new float[n * plane];
        ComponentColorModel srcModel = new ComponentColorModel(src, false, false, Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
        ComponentColorModel dstModel = new ComponentColorModel(SRGB, false, false, Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
        ColorConvertOp op = new ColorConvertOp(null);
        int[] row = new int[w];
        try {
            for (int top = 0; top < h; top += STRIP_ROWS) {
                int rows = Math.min(STRIP_ROWS, h - top);
                WritableRaster in = srcModel.createCompatibleWritableRaster(w, rows);
                for (int c = 0; c < n; c++) {
                    for (int y = 0; y < rows; y++) {
                        int base = c * plane + (top + y) * w;
                        for (int x = 0; x < w; x++) row[x] = ImageFiles.quantise(planes[base + x], 65535);
                        in.setSamples(0, y, w, 1, c, row);
                    }
                }
                BufferedImage dst = new BufferedImage(dstModel, dstModel.createCompatibleWritableRaster(w, rows), false, null);
                op.filter(new BufferedImage(srcModel, in, false, null), dst);
                WritableRaster result = dst.getRaster();
                for (int c = 0; c < n; c++) {
                    for (int y = 0; y < rows; y++) {
                        int base = c * plane + (top + y) * w;
                        if (n == 3) {
                            result.getSamples(0, y, w, 1, c, row);
                            for (int x = 0; x < w; x++) out[base + x] = row[x] / 65535f;
                        } else {
                            for (int b = 0; b < 3; b++) {
                                result.getSamples(0, y, w, 1, b, row);
                                for (int x = 0; x < w; x++) out[base + x] += row[x] / (3 * 65535f);
                            }
                        }
                    }
                }
            }
        } catch (RuntimeException e) {
            return null;   // a profile the colour management refuses (CMMException, ProfileDataException)
        }
        return out;
    }

    /**
     * A PNG's colour planes with gAMA {@code fileGamma} (the exponent that encoded linear light,
     * 1/2.2 for sRGB-like files) re-encoded with sRGB's curve; the image itself when the gamma is
     * sRGB's (within {@link #GAMMA_TOLERANCE}) or not positive.
     */
    static Image fromGamma(Image image, double fileGamma) {
        if (!(fileGamma > 0) || Math.abs(fileGamma - SRGB_GAMMA) <= GAMMA_TOLERANCE) return image;
        double decode = 1 / fileGamma;
        float[] p = image.pixels(), out = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            double linear = Math.pow(Math.min(1, Math.max(0, p[i])), decode);
            out[i] = (float) encodeSrgb(linear);
        }
        return new Image(image.channels(), image.height(), image.width(), out, image.alpha(), image.bitDepth());
    }

    /** The sRGB curve (IEC 61966-2-1): linear light in [0, 1] to the encoded value. */
    static double encodeSrgb(double linear) {
        return linear <= 0.0031308 ? 12.92 * linear : 1.055 * Math.pow(linear, 1 / 2.4) - 0.055;
    }

    /**
     * A BufferedImage in a colour space that is neither RGB nor gray (CMYK from a TIFF, Lab)
     * converted to sRGB with 16 bits per sample, alpha kept; null when the colour management
     * cannot convert it.
     */
    static BufferedImage toSrgb(BufferedImage image) {
        boolean alpha = image.getColorModel().hasAlpha();
        ComponentColorModel cm = new ComponentColorModel(SRGB, alpha, false, alpha ? Transparency.TRANSLUCENT : Transparency.OPAQUE,
                DataBuffer.TYPE_USHORT);
        BufferedImage out = new BufferedImage(cm, cm.createCompatibleWritableRaster(image.getWidth(), image.getHeight()), false, null);
        try {
            new ColorConvertOp(null).filter(image, out);
        } catch (RuntimeException e) {
            return null;
        }
        return out;
    }

    /** The words for a colour space type ("CMYK", "Lab", ...) in messages; never a bare number. */
    static String name(ColorSpace cs) {
        return switch (cs.getType()) {
            case ColorSpace.TYPE_RGB -> "RGB";
            case ColorSpace.TYPE_GRAY -> "gray";
            case ColorSpace.TYPE_CMYK -> "CMYK";
            case ColorSpace.TYPE_CMY -> "CMY";
            case ColorSpace.TYPE_Lab -> "Lab";
            case ColorSpace.TYPE_Luv -> "Luv";
            case ColorSpace.TYPE_XYZ -> "XYZ";
            case ColorSpace.TYPE_YCbCr -> "YCbCr";
            case ColorSpace.TYPE_Yxy -> "Yxy";
            case ColorSpace.TYPE_HSV -> "HSV";
            case ColorSpace.TYPE_HLS -> "HLS";
            default -> cs.getNumComponents() + "-channel";
        };
    }
}
