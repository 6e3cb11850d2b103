"""The scikit-learn baseline of examples/grunfeld.mlp: the same features
(per-firm lags 1 and 2 of invest, value and capital; the mean and standard
deviation of the firm's three previous investments; the firm one-hot;
log1p of the investment features; standardized on the training rows), the
same rows (the first three years of each firm dropped, as the rolling
step's history = drop_row does) and the same time-ordered split (rows by
year, 65% train, 15% validation, 20% test, sizes rounded as mlpc does).
Prints the test R², MAE and RMSE of a linear model and of an MLP of the
spec's shape.

  /usr/bin/python3 bench/series/grunfeld_sklearn.py [examples/data/grunfeld.csv]
"""
import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.neural_network import MLPRegressor

path = sys.argv[1] if len(sys.argv) > 1 else "examples/data/grunfeld.csv"
d = pd.read_csv(path).sort_values(["firm", "year"], kind="stable").reset_index(drop=True)
g = d.groupby("firm", sort=False)
for c in ("invest", "value", "capital"):
    for k in (1, 2):
        d[f"{c}_lag{k}"] = g[c].shift(k)
prev = g["invest"].shift(1)
d["invest_roll_mean_3_lag1"] = prev.groupby(d["firm"]).rolling(3).mean().reset_index(level=0, drop=True)
d["invest_roll_std_3_lag1"] = prev.groupby(d["firm"]).rolling(3).std().reset_index(level=0, drop=True)
d = d[d["invest_roll_mean_3_lag1"].notna()].sort_values("year", kind="stable").reset_index(drop=True)
for c in ("invest_lag1", "invest_lag2", "invest_roll_mean_3_lag1"):
    d[c] = np.log1p(d[c])
num = [c for c in d.columns if "_lag" in c]
x = pd.concat([d[num], pd.get_dummies(d["firm"]).astype(float)], axis=1).to_numpy(float)
y = d["invest"].to_numpy(float)
n = len(d)
ntr, nva = int(round(n * 0.65)), int(round(n * 0.15))
tr, te = slice(0, ntr), slice(ntr + nva, n)
mu, sd = x[tr].mean(0), x[tr].std(0)
sd[sd == 0] = 1
x = (x - mu) / sd
ym, ys = y[tr].mean(), y[tr].std()
print(f"rows {n}: train {ntr}, validation {nva}, test {n - ntr - nva}")
for name, model in [
    ("linear regression", LinearRegression()),
    ("MLP 32-16 (adam, early stopping)", MLPRegressor((32, 16), learning_rate_init=0.003, batch_size=16,
                                                       max_iter=400, early_stopping=True,
                                                       validation_fraction=0.15, n_iter_no_change=60,
                                                       random_state=0)),
]:
    model.fit(x[tr], (y[tr] - ym) / ys)
    p = model.predict(x[te]) * ys + ym
    rmse = mean_squared_error(y[te], p) ** 0.5
    print(f"{name}: test r2 {r2_score(y[te], p):.4f} mae {mean_absolute_error(y[te], p):.4f} rmse {rmse:.4f}")
