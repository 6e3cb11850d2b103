"""The fashion_mnist example's network trained by PyTorch, for comparison
with the program mlpc builds from examples/fashion_mnist.mlp.

Same data (the IDX training file, pixels / 255, a stratified tenth held
out for validation; the official t10k files as the test set), same
layers, Adam(lr 0.001), batch 64, the same thread budget. Prints seconds
per epoch and the test accuracy as JSON."""
import json
import sys
import time

import numpy as np
import torch
from torch import nn

from torch_mlp import DIR, idx  # the same IDX reader, beside this file


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    x = idx(DIR + "train-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255
    y = idx(DIR + "train-labels-idx1-ubyte.gz").astype(np.int64)
    x_test = idx(DIR + "t10k-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255
    y_test = idx(DIR + "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    rng = np.random.default_rng(42)
    parts = {"train": [], "val": []}
    for k in range(10):
        rows = rng.permutation(np.flatnonzero(y == k))
        n = len(rows)
        parts["val"] += list(rows[: n // 10])
        parts["train"] += list(rows[n // 10:])
    tr = np.array(parts["train"])
    xt, yt = torch.from_numpy(x[tr]), torch.from_numpy(y[tr])
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(tr))
        for s in range(0, len(tr), 64):
            b = perm[s:s + 64]
            opt.zero_grad()
            loss_fn(model(xt[b]), yt[b]).backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(x_test)).argmax(1).numpy()
    print(json.dumps({"peer": "pytorch " + torch.__version__, "threads": threads, "epochs": epochs,
                      "seconds_per_epoch": sorted(times)[len(times) // 2],
                      "test_accuracy": float((pred == y_test).mean())}))


if __name__ == "__main__":
    main()
