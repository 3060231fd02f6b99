#!/usr/bin/env python3
"""Peers of `sr-app bench`, timed the same way (warm-up runs, then the median of timed runs).

  python3 tools/bench_peers.py matmul --size 1024 --threads 2     numpy float32 A @ B
  python3 tools/bench_peers.py conv2d --threads 2                 torch.nn.functional.conv2d, 1x64x128x128, 3x3, 64->64, padding 1

Prints one JSON object like sr-app's --json output (op, peer, device, shape, threads, ms, gflops).
The thread limits are set before numpy or torch is imported. For numpy, unset OPENBLAS_CORETYPE
and OPENBLAS_L2_SIZE in the calling command (tools/bench-cpu.sh does): they select an older,
slower OpenBLAS kernel; the JSON reports the core OpenBLAS actually chose.
"""
import argparse
import ctypes
import glob
import json
import os
import statistics
import sys
import time


def limit_threads(n):
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        os.environ[var] = str(n)


def timed(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    return ms


def openblas_core(np):
    """The OpenBLAS kernel numpy runs on (e.g. 'SkylakeX', 'Zen', 'Haswell'), when it can be asked."""
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*.so*"))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_", "openblas_get_corename"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def blas_name(np):
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # numpy 1.x has no dict mode
        return None


def result(op, peer, version, shape, threads, ms, flops, **extra):
    med = statistics.median(ms)
    out = {"op": op, "peer": peer, "version": version, "device": "cpu", "shape": shape, "threads": threads,
           "reps": len(ms), "ms": round(med, 4), "ms_min": round(min(ms), 4), "gflops": round(flops / (med * 1e6), 4)}
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


def bench_matmul(a):
    limit_threads(a.threads)
    import numpy as np
    m = a.m or a.size
    n = a.n or a.size
    k = a.k or a.size
    rng = np.random.default_rng(a.seed)
    x = rng.uniform(-1, 1, (m, k)).astype(np.float32)
    y = rng.uniform(-1, 1, (k, n)).astype(np.float32)
    ms = timed(lambda: x @ y, a.warmup, a.reps)
    return result("matmul", "numpy", np.__version__, {"batch": 1, "m": m, "n": n, "k": k}, a.threads, ms,
                  2.0 * m * n * k, blas=blas_name(np), openblas_core=openblas_core(np))


def bench_conv2d(a):
    limit_threads(a.threads)
    try:
        import torch
    except ImportError:
        sys.exit("bench_peers.py: torch is not importable by " + sys.executable + " (Debian: apt-get install python3-torch, then run with /usr/bin/python3)")
    import torch.nn.functional as F
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(a.seed)
    x = torch.rand((a.batch, a.in_channels, a.height, a.width), generator=g) * 2 - 1
    w = torch.rand((a.out_channels, a.in_channels // a.groups, a.kernel, a.kernel), generator=g) * 2 - 1
    with torch.no_grad():
        out = F.conv2d(x, w, stride=a.stride, padding=a.padding, dilation=a.dilation, groups=a.groups)
        oh, ow = out.shape[2], out.shape[3]
        ms = timed(lambda: F.conv2d(x, w, stride=a.stride, padding=a.padding, dilation=a.dilation, groups=a.groups), a.warmup, a.reps)
    flops = 2.0 * a.batch * a.out_channels * oh * ow * (a.in_channels // a.groups) * a.kernel * a.kernel
    shape = {"input": str(list(x.shape)), "weight": str(list(w.shape)), "output": str(list(out.shape)),
             "stride": a.stride, "padding": a.padding, "dilation": a.dilation, "groups": a.groups}
    return result("conv2d", "torch", torch.__version__, shape, torch.get_num_threads(), ms, flops,
                  mkldnn=torch.backends.mkldnn.is_available())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="op", required=True)
    for name in ("matmul", "conv2d"):
        s = sub.add_parser(name)
        s.add_argument("--threads", type=int, default=2)
        s.add_argument("--warmup", type=int, default=5)
        s.add_argument("--reps", type=int, default=20)
        s.add_argument("--seed", type=int, default=42)
    mm = sub.choices["matmul"]
    mm.add_argument("--size", type=int, default=1024)
    mm.add_argument("-m", type=int)
    mm.add_argument("-n", type=int)
    mm.add_argument("-k", type=int)
    cv = sub.choices["conv2d"]
    for flag, default in (("--batch", 1), ("--in-channels", 64), ("--out-channels", 64), ("--height", 128), ("--width", 128),
                          ("--kernel", 3), ("--stride", 1), ("--padding", 1), ("--dilation", 1), ("--groups", 1)):
        cv.add_argument(flag, type=int, default=default)
    a = p.parse_args()
    print(json.dumps(bench_matmul(a) if a.op == "matmul" else bench_conv2d(a)))


if __name__ == "__main__":
    main()
