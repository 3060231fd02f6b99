#!/usr/bin/env bash
# Everything a GPU session measures, in one run (device time is short): the gpu-tagged tests,
# our kernels against PyTorch on the same card, and a paper-scale stage-1 training run.
#
# Here (the build machine), from the project root:
#   ../shared/tools/device-pack && rm -f .device/lib/sr-app.jar   # the shaded jar duplicates lib/
#   mkdir -p .gpudata/photos && cp SOME_PHOTOS.png .gpudata/photos/   # >= 512x512, for train
# On the GPU machine, from the project root, with .device and .gpudata carried along:
#   bash tools/gpu-session.sh
# Logs go to $OUT (or /tmp/gpu-session); the last lines printed are a summary table.
# Parts can be skipped: SKIP_TESTS=1, SKIP_BENCH=1 (BENCH=unet: only the UNet steps), SKIP_JMH=1, SKIP_INFER=1, SKIP_PROFILE=1, SKIP_TRAIN=1, SKIP_STAGE2=1; TEST_SECONDS bounds the tests.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out="${OUT:-/tmp/gpu-session}"; mkdir -p "$out"
# shellcheck disable=SC1091
source .device/env.sh
export MOESR_NO_RELAUNCH=1          # the packed runtime has no jdk.incubator.vector; the GPU does the work
app=(java -Xmx48g -cp "$CP" dev.moesr.app.Main)

if [ -z "${SKIP_TESTS:-}" ]; then
  timeout "${TEST_SECONDS:-240}" bash tools/gpu-check.sh > "$out/gpu-check.txt" 2>&1
  echo "gpu-check exit status $?" >> "$out/gpu-check.txt"
  cat "$out/gpu-check.txt"
fi

if [ -z "${SKIP_BENCH:-}" ]; then
  echo "== benchmarks"
  {
    if [ "${BENCH:-all}" = all ]; then
    for s in 4096 1024; do timeout 60 "${app[@]}" bench matmul --device cuda --size "$s" --json; done
    for ch in "160 128" "320 64" "640 32"; do
      set -- $ch
      timeout 60 "${app[@]}" bench conv2d --device cuda --batch 9 --in-channels "$1" --out-channels "$1" --height "$2" --width "$2" --json
    done
    timeout 60 "${app[@]}" bench groupnorm --device cuda --json
    timeout 90 "${app[@]}" bench memory --device cuda --floats 268435456 --json
    fi
    timeout 90 "${app[@]}" bench unet --device cuda --mode sample --reps 20 --json
    timeout 120 "${app[@]}" bench unet --device cuda --mode train --reps 10 --json
  } > "$out/bench.txt" 2>&1
  [ "${BENCH:-all}" = all ] && timeout 120 python3 tools/bench_gpu_peers.py > "$out/peers.txt" 2>&1
  cat "$out/bench.txt" "$out/peers.txt" 2>/dev/null
fi

if [ -z "${SKIP_JMH:-}" ]; then
  echo "== JMH: every CUDA kernel and library call (microseconds per synchronised call)"
  # cuda-kernels' test classes first: each test jar on the class path has its own META-INF/BenchmarkList
  timeout "${JMH_SECONDS:-200}" java -cp ".device/classes/cuda-kernels:$CP" org.openjdk.jmh.Main CudaKernelBenchmark \
    -rf json -rff "$out/jmh.json" > "$out/jmh.txt" 2>&1
  grep -A 20 '^Benchmark' "$out/jmh.txt"
fi

if [ -z "${SKIP_INFER:-}" ] && [ -d .gpudata/photos ]; then
  echo "== whole images: a 4000x3000 photo with the tiny preset, a 1000x750 one with moesr-x4 (fresh weights, 1 DDIM step)"
  python3 - <<'PY'
import cv2, glob
im = cv2.imread(sorted(glob.glob(".gpudata/photos/*"))[0])
cv2.imwrite("/tmp/photo4000x3000.png", cv2.resize(im, (4000, 3000), interpolation=cv2.INTER_CUBIC))
cv2.imwrite("/tmp/photo1000x750.png", cv2.resize(im, (1000, 750), interpolation=cv2.INTER_AREA))
PY
  {
    timeout "${INFER_SECONDS:-150}" "${app[@]}" bench infer --device cuda --config tiny --input /tmp/photo4000x3000.png --steps 1 --sampler ddim --tile 128 --overlap 32 --reps 1 --warmup 0 --json
    timeout "${INFER_SECONDS:-150}" "${app[@]}" bench infer --device cuda --config moesr-x4 --input /tmp/photo1000x750.png --steps 1 --sampler ddim --tile 128 --overlap 32 --reps 1 --warmup 0 --json
  } > "$out/infer.txt" 2>&1
  cat "$out/infer.txt"
fi

if [ -z "${SKIP_PROFILE:-}" ]; then
  echo "== where a moesr-x8 training step spends its time (every backend call timed to completion, after warm-up)"
  timeout 120 java -Xmx48g -Dmoesr.profile=true -cp "$CP" dev.moesr.app.Main bench unet --device cuda --mode train --warmup 3 --warmup-seconds 0 --reps 3 \
    > "$out/profile.txt" 2>&1
  grep -A 30 'moesr profile' "$out/profile.txt"
fi

if [ -z "${SKIP_TRAIN:-}" ] && [ -d .gpudata/photos ]; then
  echo "== stage-1 training, moesr-x8, batch 9, 512x512 crops"
  timeout "${TRAIN_SECONDS:-150}" "${app[@]}" train --stage 1 --config moesr-x8 --expert 0 --data .gpudata/photos --batch 9 --steps "${TRAIN_STEPS:-6}" \
    --device cuda --json --out /tmp/gpu-train > "$out/train.txt" 2>&1
  echo "train exit status $?" >> "$out/train.txt"
  tail -n 12 "$out/train.txt"
fi

if [ -z "${SKIP_STAGE2:-}" ] && [ -d .gpudata/photos ]; then
  # Stage 2 needs a first stage and one stage-1 checkpoint per expert: one step of each is enough
  # to measure the decoder's training step (triple generation, L1 + focal frequency + GAN losses).
  cfg=${STAGE2_CONFIG:-moesr-x4}; crop=${STAGE2_CROP:-512}; dev=${STAGE2_DEVICE:-cuda}; runs=/tmp/gpu-stage2
  echo "== stage-2 training, $cfg, batches ${STAGE2_BATCHES:-2}, ${crop}x${crop} crops (after one step of stage 0 and of each expert)"
  rm -rf "$runs"
  {
    experts=$("${app[@]}" info --config "$cfg" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("sampling_experts", 4))' || echo 4)
    timeout 120 "${app[@]}" train --stage 0 --config "$cfg" --data .gpudata/photos --crop "$crop" --batch 1 --steps 1 --device "$dev" --out "$runs" --quiet --json
    ckpts=()
    for ((k = 0; k < experts; k++)); do
      timeout 90 "${app[@]}" train --stage 1 --config "$cfg" --expert "$k" --data .gpudata/photos --crop "$crop" --batch 1 --steps 1 \
        --first-stage "$runs/stage0.safetensors" --device "$dev" --out "$runs" --quiet --json | tail -n 1
      ckpts+=("$runs/stage1-expert$k.safetensors")
    done
    for b in ${STAGE2_BATCHES:-2}; do
      echo "stage 2 with batch $b"
      timeout "${STAGE2_SECONDS:-200}" "${app[@]}" train --stage 2 --config "$cfg" --data .gpudata/photos --crop "$crop" \
        --batch "$b" --steps "${STAGE2_STEPS:-4}" --disc-start 2 --triples "$b" --sampling-steps 4 --cache "$runs/triples" \
        --first-stage "$runs/stage0.safetensors" --expert-checkpoints "$(IFS=,; echo "${ckpts[*]}")" --device "$dev" --out "$runs/b$b" --json
      echo "stage-2 exit status $?"
    done
  } > "$out/stage2.txt" 2>&1
  tail -n 8 "$out/stage2.txt"
fi

echo "== summary"
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
def lines(name):
    p = os.path.join(out, name)
    if not os.path.exists(p): return []
    res = []
    for l in open(p, errors="replace"):
        l = l.strip()
        if l.startswith("{"):
            try: res.append(json.loads(l))
            except ValueError: pass
    return res
ours, peers = lines("bench.txt") + lines("infer.txt"), lines("peers.txt")
def key(o):
    s = o.get("shape", {})
    return (o["op"].split(" ")[0], tuple(sorted((k, v) for k, v in s.items() if k in ("m", "c", "h", "in_channels", "height"))))
def rate(o):
    s = f"{o['gflops']:9.1f} GFLOP/s" if "gflops" in o else f"{o['gb_per_s']:9.1f} GB/s" if "gb_per_s" in o else ""
    for k in ("of_copy", "images_per_second", "peak_gib"):
        if k in o: s += f"  {k} {o[k]:.3g}"
    return s
for who, rows in (("ours ", ours), ("torch", peers)):
    for o in rows:
        if "op" in o and "ms" in o:
            print(f"  {who} {o['op']:<26} {json.dumps(o.get('shape'))[:70]:<70} {o['ms']:9.3f} ms {rate(o)}")
        elif o.get("op") == "infer":
            print(f"  {who} infer {o['model']} {o['input']} -> {o['output']}: sampling {o['sampling_seconds']:.1f} s, decoding {o['decoding_seconds']:.1f} s, "
                  f"device peak {o['device_peak_gib']:.2f} GiB, heap peak {o['heap_peak_gib']:.2f} GiB")
for name in ("train.txt", "stage2.txt"):
    p, batch = os.path.join(out, name), "?"
    for l in (open(p, errors="replace") if os.path.exists(p) else []):
        if l.startswith("stage 2 with batch"): batch = l.split()[-1]
        if not l.startswith("{"): continue
        try: o = json.loads(l)
        except ValueError: continue
        if "loss" in o and "steps" in o and (name == "train.txt" or "focal_frequency" in o):
            print(f"  {name[:-4]} step {o['step']}/{o['steps']}{'' if name == 'train.txt' else ' (batch ' + batch + ')'}: loss {o['loss']:.4f}, "
                  f"{o.get('images_per_second', 0):.2f} images/s, peak {o.get('peak_bytes', 0)/2**30:.2f} GiB")
PY
