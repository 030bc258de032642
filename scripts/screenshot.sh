#!/usr/bin/env bash
# Runs the real desktop app under Xvfb on a fresh workspace (with the sample
# datasets) and saves screenshots of its screens in out/. Needs xvfb, xdotool
# and imagemagick (apt-get install xvfb xdotool imagemagick).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p out
ws=$(mktemp -d)/screens.modelsmith
export DISPLAY=:77
Xvfb "$DISPLAY" -screen 0 1280x860x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true' EXIT
sleep 1
LANG=C.UTF-8 ./modelsmith --workspace "$ws" 2>out/app.log &
app=$!
for _ in $(seq 60); do
  win=$(xdotool search --name '^Modelsmith$' 2>/dev/null | head -1) && [[ -n "$win" ]] && break
  sleep 0.5
done
sleep 2
import -window root out/home.png
# The navigation list: Home, Data, Jobs, about 40 px apart under the title.
xdotool mousemove 60 105 click 1; sleep 2
import -window root out/data.png
xdotool mousemove 60 145 click 1; sleep 1
import -window root out/jobs.png
echo "screenshots in out/: home.png data.png jobs.png; app log in out/app.log" >&2
