#!/usr/bin/python3
"""Writes the golden fixtures of the quality metrics into ../resources/metrics/:

- test images as PNG files (synthetic but natural-looking: smooth random fields, edges, texture),
- metrics.txt: PSNR and SSIM on the BT.601 Y channel from scikit-image
  (peak_signal_noise_ratio, structural_similarity with gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255), and NIQE from the numpy implementation below,
  written from the published algorithm (Mittal et al. 2013) with BasicSR's choices (luma rounded,
  96x96 blocks, second scale by MATLAB bicubic 0.5, nanmean / nan-free covariance, pinv).

Everything is independent of the Java code. Run: /usr/bin/python3 make_metrics_fixture.py"""
import math
import os
import numpy as np
from PIL import Image
from scipy import ndimage, special
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "resources", "metrics")
NIQE_PARAMS = os.path.join(HERE, "..", "..", "main", "resources", "dev", "moesr", "app", "metrics", "niqe_pris_params.npz")

rng = np.random.default_rng(20261126)


def natural_field(h, w, channels):
    """Sum of smoothed noise at several scales, a few hard-edged shapes and fine texture, in [0, 1]."""
    img = np.zeros((h, w, channels))
    for sigma, amp in [(24, 0.5), (8, 0.25), (2, 0.12), (0.7, 0.05)]:
        field = ndimage.gaussian_filter(rng.standard_normal((h, w, channels)), sigma=(sigma, sigma, 0))
        img += amp * field / (field.std() + 1e-12)
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(4):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(8, 30)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] += rng.uniform(-0.4, 0.4, channels)
    img = (img - img.min()) / (img.max() - img.min())
    return 0.05 + 0.9 * img


def to_u8(img):
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def save_png(name, u8):
    Image.fromarray(u8.squeeze()).save(os.path.join(OUT, name), optimize=True)


def luma(u8):
    """BT.601 Y in 0..255 from 8-bit RGB (float64); gray images: the gray value."""
    x = u8.astype(np.float64) / 255.0
    if x.ndim == 2:
        return x * 255.0
    return 16.0 + 65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]


def crop(a, border):
    return a if border == 0 else a[border:-border, border:-border]


# ---------- MATLAB bicubic imresize (dense weight matrices), for NIQE's second scale ----------
def cubic(x):
    ax = np.abs(x)
    return np.where(ax <= 1, 1.5 * ax ** 3 - 2.5 * ax ** 2 + 1,
                    np.where(ax <= 2, -0.5 * ax ** 3 + 2.5 * ax ** 2 - 4 * ax + 2, 0.0))


def weight_matrix(n_in, n_out, scale):
    width = 4.0 / scale if scale < 1 else 4.0
    m = np.zeros((n_out, n_in))
    for x in range(1, n_out + 1):
        u = x / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        p = np.arange(left, left + math.ceil(width) + 2)
        wts = scale * cubic(scale * (u - p)) if scale < 1 else cubic(u - p)
        wts = wts / wts.sum()
        mirror = np.concatenate([np.arange(1, n_in + 1), np.arange(n_in, 0, -1)])
        np.add.at(m[x - 1], mirror[np.mod(p - 1, 2 * n_in)] - 1, wts)
    return m


def imresize_half(img):
    h, w = img.shape
    return weight_matrix(h, math.ceil(h / 2), 0.5) @ img @ weight_matrix(w, math.ceil(w / 2), 0.5).T


# ---------- NIQE ----------
SHAPES = np.arange(0.2, 10.001, 0.001)
RATIOS = special.gamma(2 / SHAPES) ** 2 / (special.gamma(1 / SHAPES) * special.gamma(3 / SHAPES))


def aggd(x):
    x = x.ravel()
    left = np.sqrt(np.mean(x[x < 0] ** 2)) if np.any(x < 0) else np.nan
    right = np.sqrt(np.mean(x[x > 0] ** 2)) if np.any(x > 0) else np.nan
    g = left / right
    rhat = np.mean(np.abs(x)) ** 2 / np.mean(x ** 2)
    rnorm = rhat * (g ** 3 + 1) * (g + 1) / (g ** 2 + 1) ** 2
    alpha = SHAPES[np.argmin((RATIOS - rnorm) ** 2)]
    k = np.sqrt(special.gamma(1 / alpha) / special.gamma(3 / alpha))
    return alpha, left * k, right * k


def block_features(block):
    a, l, r = aggd(block)
    feats = [a, (l + r) / 2]
    for shift in [(0, 1), (1, 0), (1, 1), (1, -1)]:
        a, l, r = aggd(block * np.roll(block, shift, axis=(0, 1)))
        feats += [a, (r - l) * special.gamma(2 / a) / special.gamma(1 / a), l, r]
    return feats


def niqe(y, params):
    window = params["gaussian_window"]
    bh, bw = y.shape[0] // 96, y.shape[1] // 96
    img = y[:bh * 96, :bw * 96]
    per_scale = []
    for scale in (1, 2):
        mu = ndimage.convolve(img, window, mode="nearest")
        sigma = np.sqrt(np.abs(ndimage.convolve(img * img, window, mode="nearest") - mu * mu))
        norm = (img - mu) / (sigma + 1)
        s = 96 // scale
        per_scale.append(np.array([block_features(norm[i * s:(i + 1) * s, j * s:(j + 1) * s])
                                   for j in range(bw) for i in range(bh)]))
        if scale == 1:
            img = imresize_half(img / 255.0) * 255.0
    feats = np.concatenate(per_scale, axis=1)
    mu_d = np.nanmean(feats, axis=0)
    cov_d = np.cov(feats[~np.isnan(feats).any(axis=1)], rowvar=False)
    d = params["mu_pris_param"].ravel() - mu_d
    return float(np.sqrt(d @ np.linalg.pinv((params["cov_pris_param"] + cov_d) / 2) @ d)), mu_d


def main():
    os.makedirs(OUT, exist_ok=True)
    params = dict(np.load(NIQE_PARAMS))
    lines = ["# generated by sr-app/src/test/python/make_metrics_fixture.py"]

    # an RGB reference and a blurred, noisy, slightly shifted-colour version of it (odd sizes on purpose)
    ref = natural_field(113, 207, 3)
    dist = ndimage.gaussian_filter(ref, sigma=(0.8, 0.8, 0)) + rng.normal(0, 0.03, ref.shape) + np.array([0.01, -0.01, 0.0])
    ref_u8, dist_u8 = to_u8(ref), to_u8(dist)
    save_png("ref_rgb.png", ref_u8)
    save_png("dist_rgb.png", dist_u8)
    yr, yd = luma(ref_u8), luma(dist_u8)
    for i, border in enumerate((0, 4)):
        a, b = crop(yr, border), crop(yd, border)
        psnr = peak_signal_noise_ratio(a, b, data_range=255)
        ssim = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
        lines.append(f"fullref{i} ref_rgb.png dist_rgb.png {border} {psnr!r} {ssim!r}")

    # a gray pair (gray values are used as they are, times 255)
    gref = natural_field(64, 75, 1)[..., 0]
    gdist = np.clip(gref + rng.normal(0, 0.05, gref.shape), 0, 1)
    g_u8, gd_u8 = to_u8(gref), to_u8(gdist)
    save_png("ref_gray.png", g_u8)
    save_png("dist_gray.png", gd_u8)
    a, b = luma(g_u8), luma(gd_u8)
    psnr = peak_signal_noise_ratio(a, b, data_range=255)
    ssim = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    lines.append(f"fullref2 ref_gray.png dist_gray.png 0 {psnr!r} {ssim!r}")

    # NIQE: a gray image of 3x2 blocks (its rows beyond 192 are cut), and the two RGB images (2x1 blocks, border 4 cropped)
    niqe_gray = to_u8(natural_field(200, 290, 1)[..., 0])
    save_png("niqe_gray.png", niqe_gray)
    score, mu = niqe(np.round(luma(niqe_gray)), params)
    lines.append(f"niqe0 niqe_gray.png 0 {score!r}")
    lines.append("niqe_mean_features niqe_gray.png " + " ".join(repr(float(v)) for v in mu))
    for i, (name, u8) in enumerate([("ref_rgb.png", ref_u8), ("dist_rgb.png", dist_u8)]):
        # 207 - 8 = 199 >= 192 columns and 113 - 8 = 105 >= 96 rows: two blocks
        score, _ = niqe(np.round(crop(luma(u8), 4)), params)
        lines.append(f"niqe{i + 1} {name} 4 {score!r}")

    # single-block statistics, to locate a disagreement: a random block, and one with no negative
    # values (its left scales are NaN and its shapes fall back to the first grid value)
    for i, block in enumerate([rng.standard_normal((12, 10)) * 0.7 + 0.1, rng.uniform(0.1, 1.0, (9, 11))]):
        lines.append(f"block{i}_in {block.shape[0]} {block.shape[1]} " + " ".join(repr(float(v)) for v in block.ravel()))
        lines.append(f"block{i}_features " + " ".join(repr(float(v)) for v in block_features(block)))

    with open(os.path.join(OUT, "metrics.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
