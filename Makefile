# Modelsmith. The two commands a newcomer needs are `make run` and `make test`;
# both install what they need first (scripts/setup.sh).

GO ?= go
BIN := ./modelsmith

.PHONY: run test build setup bench bench-serve bench-automl screenshot clean

run: setup build
	$(BIN)

test: setup
	scripts/test.sh

build:
	$(GO) build -o $(BIN) .

setup:
	scripts/setup.sh

# Import speed against pandas.read_csv, then training and prediction as whole
# processes against XGBoost, on flights_delay (needs python3-pandas,
# python3-xgboost, python3-sklearn); then AutoML at 60 s on every public
# tabular dataset against the best peer (about 10 minutes).
bench: setup
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./ml/data
	python3 scripts/pandas_read.py ../shared/datasets/flights_delay/train.csv.gz
	scripts/bench_flights.sh
	scripts/bench_automl.sh
	scripts/bench_serve.sh

# Only the serving load test: wrk -t2 -c16 -d20s, twice, against /v2/models/a/infer.
bench-serve: setup
	scripts/bench_serve.sh

# Only the AutoML comparison (BENCH_TIME=60s, BENCH_ONLY="iris adult" to choose).
bench-automl: setup
	scripts/bench_automl.sh

# The real app under Xvfb, screenshots in out/ (needs xvfb, imagemagick).
screenshot: build
	scripts/screenshot.sh

clean:
	rm -f $(BIN)
