#!/usr/bin/env bash
# Builds native/host-test/host_check.cpp with the host C++ compiler (g++, which nvcc needs
# anyway) and runs it: our kernels on the CPU against reference loops. No GPU, no nvcc needed.
#   native/host-test/run.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/../../target/native-host-test}
mkdir -p "$out"
cxx=${CXX:-g++}
# -ffp-contract=off: no fused multiply-add, as the kernels' __f*_rn intrinsics promise
"$cxx" -std=c++20 -O1 -ffp-contract=off -Wall -Wno-unknown-pragmas -pthread \
  -o "$out/host_check" "$here/host_check.cpp"
"$out/host_check"
