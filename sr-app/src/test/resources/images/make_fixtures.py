#!/usr/bin/python3
"""Makes the tiny test images of ImageFilesFormatsTest and writes the values they must read as.

Run with Debian's python3 (python3-pil, python3-numpy) from this folder's parent or anywhere:

    nice -n 19 /usr/bin/python3 sr-app/src/test/resources/images/make_fixtures.py

It rewrites every fixture in this folder and expected.properties, the colour-managed reference
values that the Java test compares against. The colour references are computed here, analytically
(ICC matrix/TRC maths in double precision), and cross-checked against LittleCMS through Pillow's
ImageCms; JPEG references are computed from the pixels Pillow decodes, so that JPEG's own rounding
is not counted as a colour error.
"""
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageCms

HERE = os.path.dirname(os.path.abspath(__file__))
expected = {}

# ---------------------------------------------------------------- colour maths (double precision)

D50 = np.array([0.9642, 1.0, 0.8249])


def xy_to_xyz(x, y):
    return np.array([x / y, 1.0, (1 - x - y) / y])


def rgb_to_xyz_matrix(primaries, white):
    """The RGB -> XYZ matrix (columns are the colorants) of an RGB space with these xy primaries."""
    m = np.column_stack([xy_to_xyz(*p) for p in primaries])
    s = np.linalg.solve(m, xy_to_xyz(*white))
    return m * s


BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def chad(src_white_xyz, dst_white_xyz):
    """The Bradford chromatic adaptation matrix from one white to another."""
    s, d = BRADFORD @ src_white_xyz, BRADFORD @ dst_white_xyz
    return np.linalg.inv(BRADFORD) @ np.diag(d / s) @ BRADFORD


D65_XY = (0.3127, 0.3290)
CHAD_D65_D50 = chad(xy_to_xyz(*D65_XY), D50)
P3_D50 = CHAD_D65_D50 @ rgb_to_xyz_matrix([(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)], D65_XY)
SRGB_D50 = CHAD_D65_D50 @ rgb_to_xyz_matrix([(0.640, 0.330), (0.300, 0.600), (0.150, 0.060)], D65_XY)


def s15(v):
    """Round to the s15Fixed16Number grid, as the ICC file stores it."""
    return np.round(np.asarray(v) * 65536) / 65536


P3_D50_STORED = s15(P3_D50)   # what the profile below holds, so the references use the same numbers


def srgb_decode(v):
    v = np.asarray(v, dtype=float)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def srgb_encode(v):
    v = np.clip(np.asarray(v, dtype=float), 0, 1)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def p3_to_srgb(rgb):
    """Display-P3 values in [0, 1] (shape (..., 3)) to sRGB values, colorimetric, through D50 XYZ."""
    xyz = srgb_decode(rgb) @ P3_D50_STORED.T
    return srgb_encode(xyz @ np.linalg.inv(SRGB_D50).T)


def srgb_to_p3(rgb):
    xyz = srgb_decode(rgb) @ SRGB_D50.T
    return srgb_encode(xyz @ np.linalg.inv(P3_D50_STORED).T)


# ---------------------------------------------------------------- a Display-P3 ICC profile (v4, matrix/TRC)

def s15_bytes(values):
    return b"".join(struct.pack(">i", int(round(v * 65536))) for v in values)


def mluc(text):
    s = text.encode("utf-16-be")
    return b"mluc" + bytes(4) + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(">II", len(s), 28) + s


def display_p3_profile():
    para = b"para" + bytes(4) + struct.pack(">HH", 3, 0) + s15_bytes([2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045])
    tags = [
        (b"desc", mluc("Display P3 (moesr test fixture)")),
        (b"cprt", mluc("No copyright, use freely")),
        (b"wtpt", b"XYZ " + bytes(4) + s15_bytes(D50)),
        (b"chad", b"sf32" + bytes(4) + s15_bytes(CHAD_D65_D50.flatten())),
        (b"rXYZ", b"XYZ " + bytes(4) + s15_bytes(P3_D50[:, 0])),
        (b"gXYZ", b"XYZ " + bytes(4) + s15_bytes(P3_D50[:, 1])),
        (b"bXYZ", b"XYZ " + bytes(4) + s15_bytes(P3_D50[:, 2])),
        (b"rTRC", para), (b"gTRC", para), (b"bTRC", para),   # one shared curve, written once below
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data, placed = b"", b"", {}
    for sig, body in tags:
        if body not in placed:
            while (offset + len(data)) % 4:
                data += b"\0"
            placed[body] = offset + len(data)
            data += body
        table += sig + struct.pack(">II", placed[body], len(body))
    body = struct.pack(">I", len(tags)) + table + data
    size = 128 + len(body)
    header = (struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x04300000) + b"mntr" + b"RGB " + b"XYZ "
              + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"APPL" + bytes(4) + bytes(4) + bytes(4) + bytes(8)
              + struct.pack(">I", 0) + s15_bytes(D50) + b"moes" + bytes(16) + bytes(28))
    assert len(header) == 128
    return header + body


# ---------------------------------------------------------------- a small PNG writer (16 bit, gAMA, iCCP, sRGB)

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(path, pixels, bit_depth, extra_chunks=()):
    """pixels: an integer array (h, w) gray or (h, w, 3) RGB."""
    pixels = np.asarray(pixels)
    h, w = pixels.shape[:2]
    colour_type = 0 if pixels.ndim == 2 else 2
    dtype = ">u2" if bit_depth == 16 else "u1"
    raw = b"".join(b"\0" + pixels[y].astype(dtype).tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, colour_type, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + b"".join(chunk(k, v) for k, v in extra_chunks)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(data)


def values(key, array, scale=255.0):
    """Records the expected values (row-major, channel-interleaved, in [0, 1]) with 6 decimals."""
    expected[key] = ",".join("%.6f" % v for v in (np.asarray(array, dtype=float) / scale).flatten())


def save(img, path, **kw):
    img.save(os.path.join(HERE, path), **kw)


# ---------------------------------------------------------------- 1. EXIF orientations 1..8 (JPEG), and PNG/TIFF/WebP 6

# What every file must look like once its orientation is applied: 8 wide, 6 tall, four quadrants of
# colours far apart (red top left, green top right, blue bottom left, white bottom right).
QUADRANTS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
shown = np.zeros((6, 8, 3), dtype=np.uint8)
shown[:3, :4], shown[:3, 4:], shown[3:, :4], shown[3:, 4:] = QUADRANTS
values("pattern", shown)


def stored_for(orientation, img):
    """The pixels to store so that a viewer applying EXIF `orientation` shows `img` (the inverse transform)."""
    t = {1: lambda a: a,
         2: lambda a: a[:, ::-1],
         3: lambda a: a[::-1, ::-1],
         4: lambda a: a[::-1, :],
         5: lambda a: a.transpose(1, 0, 2),
         6: lambda a: np.rot90(a, 1),          # stored = shown turned left; the viewer turns it right
         7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
         8: lambda a: np.rot90(a, -1)}
    return np.ascontiguousarray(t[orientation](img))


def check_orientation_maths():
    """Shows each stored array the way the EXIF standard words it ("the 0th row is the visual ..., the
    0th column is the visual ...") and checks that this gives back `shown`."""
    def show(o, a):
        h, w = a.shape[:2]
        out_h, out_w = (h, w) if o <= 4 else (w, h)
        out = np.zeros((out_h, out_w, 3), dtype=a.dtype)
        for y in range(out_h):
            for x in range(out_w):
                out[y, x] = a[{1: (y, x), 2: (y, w - 1 - x), 3: (h - 1 - y, w - 1 - x), 4: (h - 1 - y, x),
                               5: (x, y), 6: (h - 1 - x, y), 7: (h - 1 - x, w - 1 - y), 8: (x, w - 1 - y)}[o]]
        return out
    for o in range(1, 9):
        assert np.array_equal(show(o, stored_for(o, shown)), shown), o


check_orientation_maths()


def exif(orientation):
    e = Image.Exif()
    e[0x0112] = orientation
    return e.tobytes()


for o in range(1, 9):
    save(Image.fromarray(stored_for(o, shown)), "orient-%d.jpg" % o, quality=100, subsampling=0, exif=exif(o))
save(Image.fromarray(stored_for(6, shown)), "orient-6.png", exif=exif(6))
save(Image.fromarray(stored_for(6, shown)), "orient-6.webp", lossless=True, exact=True, exif=exif(6))
save(Image.fromarray(stored_for(6, shown)), "orient-6.tif", tiffinfo={274: 6})

# ---------------------------------------------------------------- 2. WebP (lossless, with and without alpha) and TIFF

save(Image.fromarray(shown), "pattern.webp", lossless=True, exact=True)
save(Image.fromarray(shown), "pattern.tif")
save(Image.fromarray(shown), "pattern-lzw.tif", compression="tiff_lzw")
rgba = np.dstack([shown, np.array([[0, 64, 128, 255, 255, 128, 64, 0]] * 6, dtype=np.uint8)])
save(Image.fromarray(rgba, "RGBA"), "pattern-alpha.webp", lossless=True, exact=True)
values("pattern-alpha.alpha", rgba[:, :, 3])

# ---------------------------------------------------------------- 3. 16-bit PNG and TIFF gradients

xs = np.arange(64)
grad = np.zeros((2, 64, 3), dtype=np.int64)
grad[0, :, 0] = 30000 + 3 * xs            # 64 levels inside one 8-bit step and a bit: 8 bits keep 1 or 2 of them
grad[0, :, 1] = 65535 - 1021 * xs
grad[0, :, 2] = 1000 * xs + 7
grad[1] = grad[0, ::-1]
png("gradient16.png", grad, 16)
values("gradient16", grad, 65535.0)
gray16 = (np.arange(6 * 8).reshape(6, 8) * 1361 + 11).astype(np.int64)
png("gray16.png", gray16, 16)
values("gray16", gray16, 65535.0)
os.system("cd '%s' && convert gradient16.png -depth 16 -compress None +set date:create +set date:modify -strip gradient16.tif" % HERE)

# ---------------------------------------------------------------- 4. Display-P3 PNG and JPEG of the same colours

p3 = display_p3_profile()
p3_cms = ImageCms.ImageCmsProfile(io.BytesIO(p3))
SRGB_WANTED = np.array([(200, 80, 60), (70, 170, 90), (60, 90, 190), (128, 128, 128)]) / 255.0
p3_levels = np.round(srgb_to_p3(SRGB_WANTED) * 255).astype(np.int64)
big = np.zeros((16, 16, 3), dtype=np.int64)     # quadrants of 8x8, one JPEG block each, so that JPEG keeps them flat
big[:8, :8], big[:8, 8:], big[8:, :8], big[8:, 8:] = p3_levels
png("p3.png", big, 8, [(b"iCCP", b"Display P3\0\0" + zlib.compress(p3, 9))])
# the references are per quadrant (top left, top right, bottom left, bottom right), each flat
values("p3.raw", p3_levels)
values("p3.srgb", p3_to_srgb(p3_levels / 255.0), 1.0)
save(Image.fromarray(big.astype(np.uint8)), "p3.jpg", quality=100, subsampling=0, icc_profile=p3)
decoded = np.asarray(Image.open(os.path.join(HERE, "p3.jpg")).convert("RGB"), dtype=float)
quads = np.array([decoded[:8, :8], decoded[:8, 8:], decoded[8:, :8], decoded[8:, 8:]]).reshape(4, 64, 3)
assert (quads.max(axis=1) - quads.min(axis=1)).max() == 0, "the JPEG blocks should decode flat"
values("p3-jpeg.raw", quads[:, 0])
values("p3-jpeg.srgb", p3_to_srgb(quads[:, 0] / 255.0), 1.0)

# the same P3 pixels as lossless WebP (ICCP chunk) and TIFF (tag 34675): the same rule, the same sRGB values as p3.png
save(Image.fromarray(big.astype(np.uint8)), "p3.webp", lossless=True, exact=True, icc_profile=p3)
save(Image.fromarray(big.astype(np.uint8)), "p3.tif", icc_profile=p3, compression="tiff_lzw")

# LittleCMS agrees with the maths above (to within its 8-bit output's rounding)
cms = ImageCms.buildTransform(p3_cms, ImageCms.createProfile("sRGB"), "RGB", "RGB",
                              renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
by_cms = np.asarray(ImageCms.applyTransform(Image.fromarray(big.astype(np.uint8)), cms), dtype=float) / 255
gap = np.abs(by_cms - p3_to_srgb(big / 255.0)).max() * 255
assert gap <= 1.0, "LittleCMS and the analytic P3 -> sRGB differ by %.2f levels" % gap
expected["p3.lcmsGapLevels"] = "%.3f" % gap

# ---------------------------------------------------------------- 5. gAMA: 1/1.8 (converted) and sRGB's 1/2.2 (kept)

ramp = np.zeros((2, 8, 3), dtype=np.int64)
ramp[0, :, 0] = [0, 16, 48, 96, 128, 160, 208, 255]
ramp[0, :, 1] = ramp[0, ::-1, 0]
ramp[0, :, 2] = 128
ramp[1] = 64
png("gamma18.png", ramp, 8, [(b"gAMA", struct.pack(">I", 55556))])
png("gamma18-gray.png", ramp[:, :, 0], 8, [(b"gAMA", struct.pack(">I", 55556))])
png("gamma22.png", ramp, 8, [(b"gAMA", struct.pack(">I", 45455))])
values("gamma.raw", ramp)
values("gamma18.srgb", srgb_encode((ramp / 255.0) ** (1 / 0.55556)), 1.0)
values("gamma18-gray.srgb", srgb_encode((ramp[:, :, 0] / 255.0) ** (1 / 0.55556)), 1.0)

# ---------------------------------------------------------------- 6. CMYK JPEG (Adobe, inverted, as libjpeg writes it)

cmyk = np.zeros((16, 16, 4), dtype=np.uint8)
cmyk[:8, :8] = (0, 0, 0, 0)          # white
cmyk[:8, 8:] = (0, 0, 0, 255)        # black
cmyk[8:, :8] = (255, 0, 0, 0)        # cyan
cmyk[8:, 8:] = (0, 255, 255, 0)      # red (magenta + yellow)
save(Image.fromarray(cmyk, "CMYK"), "cmyk.jpg", quality=100, subsampling=0)
save(Image.fromarray(cmyk, "CMYK"), "cmyk.tif", compression="tiff_lzw")   # TIFF's CMYK is not inverted

with open(os.path.join(HERE, "expected.properties"), "w") as f:
    f.write("# Written by make_fixtures.py: the values the fixtures must read as, row-major, channels interleaved, in [0, 1].\n")
    for k in sorted(expected):
        f.write("%s=%s\n" % (k, expected[k]))
for n in sorted(os.listdir(HERE)):
    print("%-22s %6d bytes" % (n, os.path.getsize(os.path.join(HERE, n))))
