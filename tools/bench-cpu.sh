#!/usr/bin/env bash
# Runs `sr-app bench` and its peers (numpy's matmul, PyTorch's conv2d) on this machine in one run,
# with the same thread count, and prints a table with the ratio ours/peer for each round.
# The machine may be shared: rounds interleave ours and the peer so both see the same load.
#
#   tools/bench-cpu.sh                      # 3 rounds, 2 threads, matmul 1024^3, conv2d 1x64x128x128 3x3 64->64
#   ROUNDS=5 THREADS=1 tools/bench-cpu.sh
#
# Needs the jar (mvn -q -B package -DskipTests), numpy for NUMPY_PYTHON (default python3) and
# torch for TORCH_PYTHON (default: the first of python3, /usr/bin/python3 that imports torch).
set -euo pipefail
cd "$(dirname "$0")/.."

JAR=sr-app/target/sr-app.jar
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-1024}
REPS=${REPS:-20}
WARMUP=${WARMUP:-5}
NUMPY_PYTHON=${NUMPY_PYTHON:-python3}

if [[ ! -f $JAR ]]; then
    echo "bench-cpu.sh: $JAR is missing; build it with: mvn -q -B package -DskipTests" >&2
    exit 1
fi
if [[ -z ${TORCH_PYTHON:-} ]]; then
    for py in python3 /usr/bin/python3; do
        if "$py" -c 'import torch' 2>/dev/null; then TORCH_PYTHON=$py; break; fi
    done
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(--threads "$THREADS" --reps "$REPS" --warmup "$WARMUP")

for round in $(seq 1 "$ROUNDS"); do
    java -jar "$JAR" bench matmul --size "$SIZE" --device cpu --json "${common[@]}" 2>/dev/null >"$out/$round.ours.matmul"
    # OpenBLAS's core-type overrides select a slower kernel: unset them for this command only
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$NUMPY_PYTHON" tools/bench_peers.py matmul --size "$SIZE" "${common[@]}" >"$out/$round.peer.matmul"
    java -jar "$JAR" bench conv2d --device cpu --json "${common[@]}" 2>/dev/null >"$out/$round.ours.conv2d"
    if [[ -n ${TORCH_PYTHON:-} ]]; then
        "$TORCH_PYTHON" tools/bench_peers.py conv2d "${common[@]}" >"$out/$round.peer.conv2d"
    else
        echo '{"error": "torch is not importable by python3 or /usr/bin/python3 (apt-get install python3-torch)"}' >"$out/$round.peer.conv2d"
    fi
done

python3 - "$out" "$ROUNDS" <<'PY'
import json, os, statistics, sys
d, rounds = sys.argv[1], int(sys.argv[2])
load = lambda p: json.load(open(os.path.join(d, p)))
print(f"{'round':>5}  {'op':<7} {'ours ms':>9} {'ours GF/s':>10}  {'peer':<14} {'peer ms':>9} {'peer GF/s':>10}  {'ours/peer':>9}")
ratios = {}
for r in range(1, rounds + 1):
    for op in ("matmul", "conv2d"):
        o, p = load(f"{r}.ours.{op}"), load(f"{r}.peer.{op}")
        if "error" in p:
            print(f"{r:>5}  {op:<7} {o['ms']:>9.3f} {o['gflops']:>10.1f}  {p['error']}")
            continue
        ratio = o["gflops"] / p["gflops"]
        ratios.setdefault(op, []).append(ratio)
        peer = f"{p['peer']} {p['version']}"
        print(f"{r:>5}  {op:<7} {o['ms']:>9.3f} {o['gflops']:>10.1f}  {peer:<14} {p['ms']:>9.3f} {p['gflops']:>10.1f}  {ratio:>9.2f}")
for op, rs in ratios.items():
    print(f"median ratio {op}: {statistics.median(rs):.2f} over {len(rs)} rounds (min {min(rs):.2f}, max {max(rs):.2f})")
o, p = load("1.ours.matmul"), load("1.peer.matmul")
print(f"threads: ours {o['threads']} (vector API: {o.get('vector_api')}), numpy {p['threads']} ({p.get('blas')}, core {p.get('openblas_core')})")
PY
