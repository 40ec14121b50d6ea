#!/bin/bash
# The README's "run" command: install what is missing, build, and run the
# main job.  Until the server and the app exist, the main job is the trace
# benchmark, which prints its figures.
set -euo pipefail
cd "$(dirname "$0")/.."

bash build-aux/install-deps.sh
builddir=${BUILDDIR:-_build}
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" --buildtype=release
fi
meson compile -C "$builddir"

for trace in tests/data/*.json.gz; do
  case "$trace" in *concurrent*) continue ;; esac
  "$builddir/src/bench/patches-bench-trace" "$trace"
done
"$builddir/src/bench/patches-bench-transform"
