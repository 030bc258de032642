#!/usr/bin/env bash
# Installs what building and testing Modelsmith needs on Debian/Ubuntu: the C
# toolchain and the OpenGL/X11 headers that Fyne's cgo driver compiles against,
# then the Go modules. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc pkg-config libgl1-mesa-dev xorg-dev)
if [[ "${1:-}" == "--with-xvfb" ]]; then
  packages+=(xvfb)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    echo "setup: please install the equivalents of: ${missing[*]} (no apt-get on this machine)" >&2
    exit 1
  fi
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null; then
  if [[ -x /usr/local/go/bin/go ]]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    echo "setup: Go 1.26 or newer is needed: https://go.dev/dl/" >&2
    exit 1
  fi
fi
go mod download

# onnxruntime-node for the ml/onnx tests, which run every exported model in
# it. --ignore-scripts: the package's install script downloads CUDA binaries
# from a host CI cannot reach; the CPU runtime the tests need ships in the
# package itself. The version is pinned by tools/ort/package-lock.json.
if command -v npm >/dev/null; then
  if [[ ! -f tools/ort/node_modules/onnxruntime-node/package.json ]]; then
    echo "setup: installing onnxruntime-node into tools/ort" >&2
    (cd tools/ort && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
else
  echo "setup: npm not found: the ml/onnx tests will skip locally (and fail under CI=true); install Node.js 18+ to run them" >&2
fi
