#!/usr/bin/env bash
# Scores of a model against MATLAB bicubic on the held-out validation photographs (never trained on):
# each HR photo is downscaled 4x (MATLAB bicubic), upscaled back by bicubic and by the model;
# PSNR-Y and SSIM with a border of 4 cropped (as `eval --crop 4`) and NIQE, per photo and mean.
# Usage: tools/eval-default.sh [MODEL] [OUT_DIR]   (defaults: the shipped model, ./eval-default)
# The photos come from tools/prepare-photos.sh (Debian packages) unless DATA points at a folder with val/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jar=${JAR:-$root/sr-app/target/sr-app.jar}
model=${1:-$root/models/moesr-x4-small.safetensors}
out=${2:-eval-default}
data=${DATA:-$HOME/data/photos}
[ -f "$jar" ] || { echo "eval-default: $jar is missing; build it first: mvn -B -q package -DskipTests" >&2; exit 2; }
[ -d "$data/val" ] || "$root/tools/prepare-photos.sh" "$data"
java -jar "$jar" demo --input "$data/val" --output "$out" --model "$model" ${STEPS:+--steps "$STEPS"}
echo "eval-default: table in $out/scores.md, pictures (LR | bicubic | ours | HR) in $out" >&2
