#!/usr/bin/env python3
"""Time pandas.read_csv on a file, as the reference for ml/data's BenchmarkReadFlights.

Usage: python3 scripts/pandas_read.py FILE [REPEATS]

Prints the best wall time of REPEATS reads (default 5), rows/s and the peak RSS of
this process, so that `go test -run XXX -bench ReadFlights ./ml/data` can be compared
with it. Peak RSS includes the interpreter and pandas itself (the "before" figure).
"""
import os
import resource
import sys
import time

try:
    import pandas as pd
except ImportError:
    # A pyenv or venv python3 may shadow the system one that has python3-pandas.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    raise


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    best = float("inf")
    rows = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        df = pd.read_csv(path)
        best = min(best, time.perf_counter() - t0)
        rows = len(df)
        del df
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"pandas {pd.__version__}: {path}")
    print(f"rows={rows} best={best * 1000:.1f} ms rows/s={rows / best:,.0f}")
    print(f"peak RSS {rss1 / 1024:.1f} MiB (before reading {rss0 / 1024:.1f} MiB)")


if __name__ == "__main__":
    main()
