#!/bin/bash
# The README's "run" command: install what is missing, build, start a
# local patches-server on an embedded SQLite database with a freshly
# generated token, and open two Patches Notes windows with separate
# profiles ("alice" and "bob") on the same notebook, so that live
# collaboration is visible at once.  Stopping the run (closing both
# windows or Ctrl+C) stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

bash build-aux/install-deps.sh
builddir=${BUILDDIR:-_build}
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" --buildtype=release -Dnotes=true
fi
meson compile -C "$builddir"

datadir=${PATCHES_RUN_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/patches-run}
mkdir -p "$datadir"
chmod 700 "$datadir"
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '# written by build-aux/run.sh\n%s demo *:write\n' "$token" > "$datadir/tokens"
chmod 600 "$datadir/tokens"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# Port 0: the server picks a free port and prints it
coproc SERVER { exec "$builddir/src/server/patches-server" \
  --listen 127.0.0.1:0 --db "$datadir/server.db" --tokens "$datadir/tokens"; }
pids+=("$SERVER_PID")
read -r line <&"${SERVER[0]}"
url="${line#listening on }/sync"
echo "patches-server: $url (database $datadir/server.db)"

# A first note, so that both windows show something to edit together
if [ ! -f "$datadir/seeded" ]; then
  now=$(date +%s000)
  cat > "$datadir/seed.json" <<JSON
[
  {"connect": true},
  {"open": "note/welcome"},
  {"open": "notebook/demo"},
  {"change": {"doc": "note/welcome", "ops": [
    {"op": "add", "path": "/title", "value": "Welcome to Patches Notes"},
    {"op": "add", "path": "/body", "value": {"ops": [
      {"insert": "This note is shared by alice and bob."},
      {"insert": "\\n"},
      {"insert": "Type in one window and watch the other follow, "},
      {"insert": "even offline", "attributes": {"bold": true}},
      {"insert": ": your edits wait and sync when the server is back.\\n"}]}},
    {"op": "add", "path": "/tags", "value": []},
    {"op": "add", "path": "/pinned", "value": true},
    {"op": "add", "path": "/updatedAt", "value": $now}]}},
  {"change": {"doc": "notebook/demo", "ops": [
    {"op": "add", "path": "/title", "value": "Demo"},
    {"op": "add", "path": "/notes", "value": {"welcome": {"order": "a0", "createdAt": $now}}}]}},
  {"wait_synced": {"timeout_ms": 10000}}
]
JSON
  if PATCHES_TOKEN="$token" "$builddir/src/cli/patches-cli" --server "$url" run "$datadir/seed.json"; then
    touch "$datadir/seeded"
  fi
fi

# A display is needed for the app; without one, run it on a virtual one
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: starting the windows on a virtual X display (Xvfb :99)"
  Xvfb :99 -screen 0 1920x1080x24 >/dev/null 2>&1 &
  pids+=("$!")
  export DISPLAY=:99
  sleep 1
fi

export GSETTINGS_SCHEMA_DIR="$builddir/data"
app="$builddir/src/notes/patches-notes"
for person in alice bob; do
  "$app" --profile "$person" --server "$url" --token "$token" \
    --notebook notebook/demo &
  pids+=("$!")
done

echo "Two windows are open (profiles alice and bob); close them or press Ctrl+C to stop."
wait "${pids[-1]}" "${pids[-2]}" || true
