#!/usr/bin/env bash
# Runs every check: formatting, go vet, the race detector on the packages with
# concurrency (storage, app, views, the parallel learners), and all other tests.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n "$unformatted" ]]; then
  echo "gofmt: these files need formatting:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...

race=(./storage/... ./app/... ./views/... ./ml/learn/...)
mapfile -t others < <(go list ./... | grep -v -e "^modelsmith/storage" -e "^modelsmith/app" -e "^modelsmith/views" -e "^modelsmith/ml/learn")
go test -race -count=1 "${race[@]}"
go test -count=1 "${others[@]}"
