#!/usr/bin/env python3
"""PyTorch on the GPU, timed the way `sr-app bench --device cuda` times our backend: warm-up runs
for at least two seconds, then the median of 20 runs, each ended by torch.cuda.synchronize().

  python3 tools/bench_gpu_peers.py            # every case below, one JSON object per line

Cases (the shapes `tools/gpu-session.sh` also gives to sr-app bench):
  copy      device-to-device copy of 2^28 floats (1 GiB): the bandwidth the memory-bound kernels are held to
  matmul    4096^3 and 1024^3 float32 (TF32 allowed, as our default)
  conv2d    the moesr-x8 UNet's 3x3 convolutions at batch 9 on its 128x128 latents
  groupnorm group norm + SiLU on [1, 128, 256, 256], 32 groups
TF32 is on for matmul and convolution, as in our backend's default.
"""
import json
import statistics
import time

import torch
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
torch.backends.cudnn.benchmark = True
dev = torch.device("cuda")


def timed(fn, warmup=5, warmup_seconds=2.0, reps=20):
    end = time.perf_counter() + warmup_seconds
    i = 0
    while i < warmup or time.perf_counter() < end:
        fn()
        torch.cuda.synchronize()
        i += 1
    ms = []
    for _ in range(reps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms)


def report(op, shape, ms, flops=None, bytes_moved=None):
    o = {"op": op, "peer": f"torch {torch.__version__}", "device": torch.cuda.get_device_name(), "shape": shape, "ms": round(ms, 4)}
    if flops:
        o["gflops"] = round(flops / (ms * 1e6), 1)
    if bytes_moved:
        o["gb_per_s"] = round(bytes_moved / (ms * 1e6), 1)
    print(json.dumps(o), flush=True)


def main():
    n = 1 << 28
    x = torch.rand(n, device=dev)
    y = torch.empty_like(x)
    report("copy", {"floats": n}, timed(lambda: y.copy_(x)), bytes_moved=8 * n)
    report("add", {"floats": n}, timed(lambda: torch.add(x, y, out=y)), bytes_moved=12 * n)
    del x, y
    for s in (4096, 1024):
        a = torch.rand(s, s, device=dev) * 2 - 1
        b = torch.rand(s, s, device=dev) * 2 - 1
        report("matmul", {"m": s, "n": s, "k": s}, timed(lambda: a @ b), flops=2 * s ** 3)
    for c, h in ((160, 128), (320, 64), (640, 32)):
        xi = torch.rand(9, c, h, h, device=dev) * 2 - 1
        w = torch.rand(c, c, 3, 3, device=dev) * 2 - 1
        report("conv2d", {"batch": 9, "c": c, "o": c, "h": h, "w": h, "k": 3},
               timed(lambda: F.conv2d(xi, w, padding=1)), flops=2 * 9 * c * c * h * h * 9)
    xg = torch.rand(1, 128, 256, 256, device=dev) * 2 - 1
    wg = torch.rand(128, device=dev)
    bg = torch.rand(128, device=dev)
    report("groupnorm+silu", {"n": 1, "c": 128, "h": 256, "w": 256, "groups": 32},
           timed(lambda: F.silu(F.group_norm(xg, 32, wg, bg, 1e-5))), bytes_moved=8 * xg.numel())


if __name__ == "__main__":
    main()
