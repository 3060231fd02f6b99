#!/usr/bin/env bash
# One-shot check of the CUDA backend on a GPU machine: runs every test tagged gpu with the JUnit
# console launcher and prints a short table per test class, the failures, and why tests skipped.
#
# Here (the build machine), from the project root:
#   ../shared/tools/device-pack            # builds, packs jars + test classes + a JRE into .device/
# On the GPU machine, from the project root, with .device carried along:
#   bash tools/gpu-check.sh                # exit status 0 only when no gpu test failed
#
# Reports (JUnit XML) go to $OUT/gpu-reports when OUT is set, else /tmp/gpu-reports.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ ! -f .device/env.sh ]; then
  echo "gpu-check: .device/env.sh is missing: run ../shared/tools/device-pack on the build machine and carry .device" >&2
  exit 2
fi
# shellcheck disable=SC1091
source .device/env.sh
reports="${OUT:-/tmp}/gpu-reports"
rm -rf "$reports"; mkdir -p "$reports"

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"
java -version 2>&1 | head -1
for lib in libcuda.so.1 libcudart.so.13 libcublas.so.13 libcufft.so.12 libcudnn.so.9; do
  where=$( { for d in ${LD_LIBRARY_PATH//:/ }; do [ -e "$d/$lib" ] && echo "$d/$lib"; done; \
             ldconfig -p 2>/dev/null | awk -v l="$lib" '$1==l {print $NF}'; } | head -1)
  printf '  %-18s %s\n' "$lib" "${where:-NOT FOUND}"
done

echo "== gpu-tagged tests"
start=$(date +%s)
java -cp "$CP" org.junit.platform.console.ConsoleLauncher execute --scan-classpath --include-tag gpu \
  --disable-banner --details=none --reports-dir "$reports" > "$reports/console.txt" 2>&1
status=$?
echo "  finished in $(( $(date +%s) - start )) s, launcher exit status $status (console log: $reports/console.txt)"

python3 - "$reports" <<'PY'
import collections, glob, sys, xml.etree.ElementTree as ET
rows = collections.OrderedDict()
failures, skips = [], collections.Counter()
for f in sorted(glob.glob(sys.argv[1] + "/*.xml")):
    for case in ET.parse(f).getroot().iter("testcase"):
        cls = case.get("classname", "?").split(".")[-1]
        r = rows.setdefault(cls, [0, 0, 0, 0, 0.0])
        r[0] += 1
        r[4] += float(case.get("time", "0") or 0)
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        skipped = case.find("skipped")
        if bad is not None:
            r[2] += 1
            msg = (bad.get("message") or (bad.text or "")).strip().splitlines()
            failures.append(f"{cls}.{case.get('name')}: {msg[0][:300] if msg else '(no message)'}")
        elif skipped is not None:
            r[3] += 1
            msg = (skipped.get("message") or (skipped.text or "")).strip().splitlines()
            skips[msg[0][:300] if msg else "(no reason given)"] += 1
        else:
            r[1] += 1
if not rows:
    print("  no test results: see the console log"); sys.exit(0)
print(f"  {'class':<28}{'tests':>7}{'passed':>8}{'failed':>8}{'skipped':>9}{'seconds':>9}")
tot = [0, 0, 0, 0, 0.0]
for cls, r in rows.items():
    print(f"  {cls:<28}{r[0]:>7}{r[1]:>8}{r[2]:>8}{r[3]:>9}{r[4]:>9.1f}")
    tot = [a + b for a, b in zip(tot, r)]
print(f"  {'total':<28}{tot[0]:>7}{tot[1]:>8}{tot[2]:>8}{tot[3]:>9}{tot[4]:>9.1f}")
if failures:
    print("== failures (first 40)")
    for f in failures[:40]: print("  " + f)
if skips:
    print("== skip reasons")
    for m, n in skips.most_common(10): print(f"  {n} x {m}")
PY
exit $status
