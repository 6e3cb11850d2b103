"""The cleaning benchmark's chain in pandas, for comparison with clean_mlpc.c:
read_csv, drop_duplicates, median imputation, z = 3 clipping, standardising
(population sd, as mlpc) and one-hot encoding. Prints one line:
  pandas SECONDS PEAK_RSS_KB ROWS_OUT COLS_OUT
"""
import resource
import sys
import time

import pandas as pd

NUM = [f"x{i}" for i in range(1, 9)]
CAT = ["color", "region", "store"]


def main(path):
    t0 = time.perf_counter()
    df = pd.read_csv(path)
    df = df.drop_duplicates()
    for c in NUM:
        df[c] = df[c].fillna(df[c].median())
    for c in NUM:
        m, s = df[c].mean(), df[c].std(ddof=0)
        df[c] = df[c].clip(m - 3 * s, m + 3 * s)
    for c in NUM:
        m, s = df[c].mean(), df[c].std(ddof=0)
        df[c] = (df[c] - m) / s
    df = pd.get_dummies(df, columns=CAT)
    secs = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"pandas {secs:.3f} {rss} {len(df)} {df.shape[1]}")


if __name__ == "__main__":
    main(sys.argv[1])
