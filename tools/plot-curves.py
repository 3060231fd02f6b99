#!/usr/bin/python3
"""Learning curves of a training run: validation PSNR-Y, SSIM and NIQE against steps, per stage.

Usage: tools/plot-curves.py RUNS_DIR OUT.png
Reads the JSON-lines logs that tools/train-default.sh writes (stage0.log, stage1-expert{0..3}.log,
stage2.log): every {"event": "validation", ...} line gives one point. Needs Debian's
python3-matplotlib (apt-get install python3-matplotlib).
"""
import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def validation_points(log):
    points = []
    for line in log.read_text().splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("event") == "validation":
            points.append(event)
    return points


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: tools/plot-curves.py RUNS_DIR OUT.png")
    runs, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    stages = [("stage 0 (VQ autoencoder)", runs / "stage0.log")]
    stages += [(f"stage 1, expert {k} (own stage, DDIM 5)", runs / f"stage1-expert{k}.log") for k in range(4)]
    stages += [("stage 2 (decoder)", runs / "stage2.log")]
    metrics = [("val_psnr", "PSNR-Y (dB)"), ("val_ssim", "SSIM"), ("val_niqe", "NIQE (lower is better)")]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    found = False
    for label, log in stages:
        if not log.exists():
            continue
        points = validation_points(log)
        if not points:
            continue
        found = True
        for ax, (key, _) in zip(axes, metrics):
            xs = [p["step"] for p in points if key in p]
            ys = [p[key] for p in points if key in p]
            if xs:
                ax.plot(xs, ys, marker="o", markersize=3, label=label)
    if not found:
        sys.exit(f"no validation events in the logs of {runs}")
    for ax, (_, title) in zip(axes, metrics):
        ax.set_title(title)
        ax.set_xlabel("optimiser step of the stage")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("moesr-x4-small: validation crops of held-out photographs (mean over crops)")
    fig.tight_layout()
    tmp = out.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    tmp.replace(out)
    print(f"plot-curves: wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
