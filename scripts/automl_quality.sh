#!/bin/sh
# AutoML quality against the peers: for each public dataset a search on
# train.csv (60 s unless -time or -trials says otherwise), the final model
# scored on test.csv, our test metric printed beside the best peer's with the
# tolerance of issue 5 (0.005 AUC/accuracy, 0.01 R², at least one test row's
# worth on test sets under 1,000 rows). A measuring tool, not a test: the
# machine's load changes the numbers; say so when reporting them.
#
#   scripts/automl_quality.sh                          # all datasets, 60 s each
#   scripts/automl_quality.sh -data iris,adult -time 30s
#   scripts/automl_quality.sh -trials 20 -v            # trial count, every trial on stderr
#
# MODELSMITH_AUTOML_DEBUG=1 adds the search's phase times on stderr.
set -eu
cd "$(dirname "$0")/.."
exec go run ./ml/automl/internal/quality -datasets ../shared/datasets "$@"
