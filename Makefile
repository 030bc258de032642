# Modelsmith. The two commands a newcomer needs are `make run` and `make test`;
# both install what they need first (scripts/setup.sh).

GO ?= go
BIN := ./modelsmith

.PHONY: run test build setup bench bench-serve bench-automl bench-unseen screenshot package icon clean

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

# The same on datasets AutoML was never tuned on (scikit-learn's wine and
# digits, generated tables; the peers scored here by scripts/unseen_datasets.py).
bench-unseen: setup
	scripts/bench_unseen.sh

# The real app under Xvfb drives itself through every screen: screenshots of
# each in light and dark theme in out/ (installs xvfb, xdotool, imagemagick).
screenshot: build
	scripts/screenshot.sh

# A desktop package (Linux: out/Modelsmith.tar.xz with the binary, the icon
# and a .desktop entry; make install-able) built by the fyne tool pinned in
# go.mod's tool block, with name, id, version and icon from FyneApp.toml.
# (The tool bumps Build in FyneApp.toml on every run: the file is restored.)
package: setup
	mkdir -p out
	cp FyneApp.toml out/.FyneApp.toml.keep
	$(GO) tool fyne package --os $$($(GO) env GOOS) --release --name Modelsmith; \
	  status=$$?; mv out/.FyneApp.toml.keep FyneApp.toml; exit $$status
	mv Modelsmith.tar.xz out/ 2>/dev/null || mv Modelsmith* out/
	@ls -la out/Modelsmith*

# Redraws resources/icon.png (scripts/icon draws it with image code).
icon:
	$(GO) run ./scripts/icon

clean:
	rm -f $(BIN)
