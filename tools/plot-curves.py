#!/usr/bin/python3
"""Learning curves of a training run: validation PSNR-Y, SSIM and NIQE against steps, per stage.

PSNR-Y, SSIM and NIQE: stage 0 (the autoencoder's reconstruction) and stage 2 (the whole
method on latents the experts sampled); a fourth panel: each stage-1 expert's epsilon MSE on
the validation crops at fixed timesteps of its stage (its image metrics are in the logs).

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
        # only validations over the fixed textured crops (with val_crops); older runs scored one random crop
        if event.get("event") == "validation" and "val_crops" in event:
            points.append(event)
    return points


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: tools/plot-curves.py RUNS_DIR OUT.png")
    runs, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    images = [("stage 0: VQ autoencoder", runs / "stage0.log"), ("stage 2: whole method (sampled latents)", runs / "stage2.log")]
    experts = [(f"expert {k}", runs / f"stage1-expert{k}.log") for k in range(4)]
    metrics = [("val_psnr", "PSNR-Y (dB)"), ("val_ssim", "SSIM"), ("val_niqe", "NIQE (lower is better)"),
               ("val_loss", "stage 1: epsilon MSE per expert")]
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.8))
    found = False
    for label, log in images + experts:
        if not log.exists():
            continue
        points = validation_points(log)
        if not points:
            continue
        found = True
        for ax, (key, _) in zip(axes, metrics):
            if (key == "val_loss") != (log.name.startswith("stage1")):
                continue
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
    axes[3].legend(fontsize=8)
    fig.suptitle("moesr-x4-small: validation crops of held-out photographs (mean over crops)")
    fig.tight_layout()
    tmp = out.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    tmp.replace(out)
    print(f"plot-curves: wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
