#!/usr/bin/env bash
# The recipe of the shipped model (moesr-x4-small, docs/default-model.md), every stage in order:
# stage 0 (VQ first stage) -> stage 1 (the four Sampling experts) -> export -> stage 2 (the
# frequency-compensated decoder) -> export -> F16 model file.
#
# Usage: tools/train-default.sh [RUNS_DIR]   (default ~/runs/small)
# Resumable: every stage writes its checkpoint every few minutes and is resumed from it, so
# stopping the script (Ctrl-C, kill, a reboot) and running it again continues where it was.
# A stage whose checkpoint has reached its step count is not run again. Raise the STEPS*
# variables and run it again to train further. Logs are JSON lines, one file per stage, in RUNS_DIR.
#
# Data: tools/prepare-photos.sh (Debian packages) unless DATA is set to a folder holding train/ and val/.
# Without checkpoints in RUNS_DIR but with INIT=models/moesr-x4-small.safetensors, stage 1 and
# stage 2 start from the shipped weights instead of from scratch (and stage 0 is taken from it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-$HOME/runs/small}
data=${DATA:-$HOME/data/photos}
jar=${JAR:-$root/sr-app/target/sr-app.jar}
config=moesr-x4-small
steps0=${STEPS0:-2000}
steps1=${STEPS1:-800}         # per expert
steps2=${STEPS2:-1000}
triples=${TRIPLES:-400}
sampling=${SAMPLING_STEPS:-20}   # the sampler that makes stage 2's latents: as the model is used (DDIM, eta 0)
init=${INIT:-}
[ -f "$jar" ] || { echo "train-default: $jar is missing; build it first: mvn -B -q package -DskipTests" >&2; exit 2; }
[ -d "$data/train" ] || "$root/tools/prepare-photos.sh" "$data"
mkdir -p "$runs"
# a bounded heap: the jar would otherwise take 75% of the memory, and ZGC grows into it (the run was once killed by the OOM killer beside other work)
sr() { echo "+ sr-app $*" >&2; java ${JAVA_OPTS:--Xmx4g} -jar "$jar" "$@"; }
common=(--config "$config" --data "$data/train" --val-data "$data/val" --val-crop 192 --out "$runs" --json --crop 128)
# resume from a stage's checkpoint when there is one
resume() { [ -f "$1" ] && echo "--resume $1" || true; }

# stage 0: the VQ first stage (L1 + codebook); the codebook starts spread over [-1, 1]^3
if [ -z "$init" ] || [ -f "$runs/stage0.safetensors" ]; then
  sr train --stage 0 "${common[@]}" --batch 4 --steps "$steps0" --lr 5e-4 --codebook-range 1 \
      --checkpoint-every 100 --validate-every 250 $(resume "$runs/stage0.safetensors") >> "$runs/stage0.log"
  first="$runs/stage0.safetensors"
else
  first="$init"
fi

# stage 1: the four Sampling experts, each on its quarter of the timesteps
experts=()
for k in 0 1 2 3; do
  ck="$runs/stage1-expert$k.safetensors"
  from=$(resume "$ck")
  [ -z "$from" ] && [ -n "$init" ] && from="--init $init"
  sr train --stage 1 "${common[@]}" --expert "$k" --batch 8 --steps "$steps1" --lr 2e-4 --first-stage "$first" \
      --checkpoint-every 100 --validate-every 250 $from >> "$runs/stage1-expert$k.log"
  experts+=("$ck")
done
sr train --stage export --config "$config" --out "$runs/model-stage1.safetensors" --first-stage "$first" \
    --expert-checkpoints "$(IFS=,; echo "${experts[*]}")" --overwrite >> "$runs/export.log"

# stage 2: the decoder's CFW fusion and AFF refinement on latents the experts sample
from=$(resume "$runs/stage2.safetensors")
[ -z "$from" ] && [ -n "$init" ] && from="--init $init"
sr train --stage 2 "${common[@]}" --batch 4 --steps "$steps2" --lr 2e-4 --model "$runs/model-stage1.safetensors" \
    --triples "$triples" --sampler ddim --sampling-steps "$sampling" --disc-start "$((steps2 * 2 / 3))" \
    --checkpoint-every 100 --validate-every 250 $from >> "$runs/stage2.log"
sr train --stage export --config "$config" --out "$runs/model.safetensors" --first-stage "$runs/stage2.safetensors" \
    --expert-checkpoints "$(IFS=,; echo "${experts[*]}")" --dtype f16 --averaged --overwrite >> "$runs/export.log"
echo "train-default: $runs/model.safetensors; evaluate it with tools/eval-default.sh $runs/model.safetensors" >&2
