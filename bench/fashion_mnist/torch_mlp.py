"""The multilayer perceptron of bench/fashion_mnist/mlp.mlp trained by
PyTorch: 784 -> 256 -> 128 -> 10 with ReLU, Adam(lr 0.001), batch 64.

Same data as the compiled program: the IDX training file, pixels / 255, a
stratified 80/10/10 split (drawn by this script's own generator, so the
rows differ but the sizes and class proportions agree), the validation
rows scored after every epoch as the compiled program does. The pixels
are kept as bytes until the split; only the three splits become floats.

Usage: torch_mlp.py EPOCHS THREADS [SEED] (intra-op threads; OpenBLAS's
own count comes from the environment; SEED, default 42, draws the split,
the weights and the batches). Prints one JSON line: training samples per
second over the epochs (each epoch's time includes its validation pass,
as the compiled program's does), the whole run's seconds, the test
accuracy."""
import gzip
import json
import sys
import time

import numpy as np
import torch
from torch import nn

DIR = "/usr/share/datasets/fashion-mnist/"


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def split(pixels, labels, rows):
    """The rows as a float tensor of pixels / 255 and a tensor of labels."""
    rows = np.array(rows)
    return torch.from_numpy(pixels[rows].astype(np.float32) / 255), torch.from_numpy(labels[rows])


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def main():
    t_start = time.perf_counter()
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    pixels = idx(DIR + "train-images-idx3-ubyte.gz").reshape(-1, 784)
    labels = idx(DIR + "train-labels-idx1-ubyte.gz").astype(np.int64)
    rng = np.random.default_rng(seed)
    parts = {"train": [], "val": [], "test": []}
    for k in range(10):
        rows = rng.permutation(np.flatnonzero(labels == k))
        n = len(rows)
        parts["test"] += list(rows[: n // 10])
        parts["val"] += list(rows[n // 10: 2 * (n // 10)])
        parts["train"] += list(rows[2 * (n // 10):])

    (xt, yt), (xv, yv), (xe, ye) = (split(pixels, labels, parts[p]) for p in ("train", "val", "test"))
    del pixels
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    epoch_seconds = 0.0
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(xt))
        for s in range(0, len(xt), 64):
            b = perm[s:s + 64]
            opt.zero_grad()
            loss_fn(model(xt[b]), yt[b]).backward()
            opt.step()
        accuracy(model, xv, yv)
        epoch_seconds += time.perf_counter() - t0
    print(json.dumps({"peer": "pytorch " + torch.__version__, "threads": threads, "epochs": epochs,
                      "train_rows": len(xt), "test_rows": len(xe),
                      "samples_per_second": epochs * len(xt) / epoch_seconds,
                      "seconds": time.perf_counter() - t_start,
                      "test_accuracy": accuracy(model, xe, ye)}))


if __name__ == "__main__":
    main()
