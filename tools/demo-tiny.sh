#!/usr/bin/env bash
# The whole method at `tiny` scale on a CPU, end to end, in a few minutes:
# HR photos -> VQ first stage (stage 0) -> four Sampling experts (stage 1) -> model file ->
# LR images (bicubic x4) -> super-resolution (infer) -> PSNR/SSIM/NIQE against the HR photos (eval).
# Usage: tools/demo-tiny.sh [PHOTO_DIR] [WORK_DIR]   (defaults: the test photographs, ./demo-tiny; WORK_DIR must not exist)
# STEPS0, STEPS1 and SAMPLING_STEPS change the training lengths and the sampler steps.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jar="$root/sr-app/target/sr-app.jar"
photos=${1:-$root/sr-app/src/test/resources/photos}
work=${2:-demo-tiny}
steps0=${STEPS0:-300}
steps1=${STEPS1:-150}
sampling=${SAMPLING_STEPS:-50}
[ -f "$jar" ] || { echo "demo: $jar is missing; build it first: mvn -B -q package -DskipTests" >&2; exit 2; }
run() { echo "+ sr-app $*" >&2; java -jar "$jar" "$@"; }
[ ! -e "$work" ] || { echo "demo: $work already exists; give another WORK_DIR or remove it" >&2; exit 2; }
mkdir -p "$work"
run train --stage 0 --config tiny --data "$photos" --crop 32 --batch 2 --steps "$steps0" --lr 5e-4 --out "$work/runs" --quiet
ckpts=()
for k in 0 1 2 3; do
  run train --stage 1 --config tiny --expert "$k" --data "$photos" --crop 32 --batch 2 --steps "$steps1" --lr 1e-3 \
      --first-stage "$work/runs/stage0.safetensors" --out "$work/runs" --quiet
  ckpts+=("$work/runs/stage1-expert$k.safetensors")
done
run train --stage export --config tiny --out "$work/model.safetensors" --first-stage "$work/runs/stage0.safetensors" \
    --expert-checkpoints "$(IFS=,; echo "${ckpts[*]}")"
run degrade --input "$photos" --output "$work/pairs" --pipeline bicubic --scale 4 --seed 1
run infer --input "$work/pairs/lr" --output "$work/sr" --model "$work/model.safetensors" --steps "$sampling" --sampler ddim --seed 7 --color-fix --quiet
run eval --sr "$work/sr" --hr "$work/pairs/hr" --crop 4
echo "demo: super-resolved images are in $work/sr" >&2
