#!/bin/bash
# The README's "test" command (and CI's): install what is missing, build
# with warnings as errors, run every suite, then build a second tree with
# AddressSanitizer + UndefinedBehaviorSanitizer and run the library and
# server suites there too.
set -euo pipefail
cd "$(dirname "$0")/.."

bash build-aux/install-deps.sh
jobs=$(nproc)

echo "== build (warnings are errors)"
rm -rf _build-test
meson setup _build-test -Dwerror=true --buildtype=debugoptimized >/dev/null
meson compile -C _build-test
echo "== meson test"
meson test -C _build-test --print-errorlogs --num-processes "$jobs"

echo "== build with -Db_sanitize=address,undefined"
rm -rf _build-asan
meson setup _build-asan -Dwerror=true -Db_sanitize=address,undefined \
  -Db_lundef=false --buildtype=debug >/dev/null
meson compile -C _build-asan
echo "== meson test (sanitizers, library and server suites)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  meson test -C _build-asan --suite libpatches --suite server --print-errorlogs --num-processes "$jobs"

# One closing line over both runs, counting test executables.
python3 - _build-test _build-asan <<'PY'
import json, sys
passed = failed = skipped = 0
for build in sys.argv[1:]:
    with open(build + "/meson-logs/testlog.json") as log:
        for line in log:
            result = json.loads(line)["result"]
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
print("%d passed, %d failed" % (passed, failed) + (", %d skipped" % skipped if skipped else ""))
PY
