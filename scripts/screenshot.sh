#!/usr/bin/env bash
# Runs the real desktop app under Xvfb on a workspace holding the sample
# datasets and lets it drive itself through every screen (the app's scripted
# demo, MODELSMITH_DEMO=DIR): screenshots of each screen in light and dark
# theme land in out/, with out/demo.log saying how long the first frame and
# the workspace took to appear. Installs xvfb, xdotool and imagemagick if
# missing (Debian/Ubuntu).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --with-xvfb
for tool in xdotool:xdotool import:imagemagick; do
  command -v "${tool%%:*}" >/dev/null && continue
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get install -y -qq --no-install-recommends "${tool##*:}" >/dev/null
done
mkdir -p out
rm -f out/*.png out/demo.log
tmp=$(mktemp -d)
ws=$tmp/screens.modelsmith
display=:$((70 + RANDOM % 200))
Xvfb "$display" -screen 0 1280x860x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true; rm -rf "$tmp"' EXIT
export DISPLAY=$display
sleep 1
# A workspace holding the samples, created once by the CLI, so that the timed
# start below is the app's own, not the seeding of a new workspace.
./modelsmith --workspace "$ws" datasets >/dev/null
MODELSMITH_DEMO=out timeout 300 ./modelsmith --workspace "$ws" 2>out/app.log
cat out/demo.log
ls out/*.png
