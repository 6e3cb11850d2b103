"""The time-series benchmark's steps in pandas, the same as series_mlpc.c:
per-group lags 1, 2 and 3 and the mean and standard deviation of the 7 rows
before each row, per group, on ROWS rows of GROUPS interleaved series.
Prints: pandas SECONDS PEAK_RSS_KB RSS_BEFORE_KB CHECKSUM

  /usr/bin/python3 bench/series/series_pandas.py [ROWS] [GROUPS]
"""
import resource
import sys
import time

import numpy as np
import pandas as pd

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
groups = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
r = np.arange(rows, dtype=np.int64)
key = pd.Categorical.from_codes((r * 7919) % groups, [f"g{g}" for g in range(groups)])
v = ((r * 2654435761) % (1 << 32) % 1000).astype(np.float32) / 8
d = pd.DataFrame({"key": key, "v": v})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
g = d.groupby("key", sort=False, observed=True)["v"]
for k in (1, 2, 3):
    d[f"v_lag{k}"] = g.shift(k)
prev = g.shift(1).groupby(d["key"], sort=False, observed=True)
d["v_roll_mean_7_lag1"] = prev.rolling(7).mean().reset_index(level=0, drop=True)
d["v_roll_std_7_lag1"] = prev.rolling(7).std().reset_index(level=0, drop=True)
t1 = time.perf_counter()
s = float(np.nansum(d.iloc[:, 2:].to_numpy(np.float64)))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"pandas {t1 - t0:.4f} {peak} {before} {s:.6e}")
