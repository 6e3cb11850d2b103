"""The austen_lstm and austen_transformer examples' networks trained by
PyTorch, for comparison with the programs mlpc builds from them
(bench/sequence/run.sh).

Same data: the cleaned training rows the mlpc program wrote with
--export-features (64 word ids per paragraph, padded in front, and the book's
class index). Same layers and initialization kinds (nn.Embedding,
nn.LSTM(bidirectional), nn.TransformerEncoder of post-norm relu blocks with
learned positions and a mean over the steps), dropout, Adam(lr 0.003), batch
32, shuffled each epoch, THREADS threads. Each epoch is timed as the mlpc
program times its own: the training pass, then the loss over the
validation rows. Prints one JSON line: each epoch's seconds, the median
training samples/s, and the process's peak RSS.

Usage: /usr/bin/python3 torch_seq.py lstm|transformer TRAIN.csv VAL.csv EPOCHS THREADS
"""
import csv
import json
import resource
import sys
import time

import numpy as np
import torch
from torch import nn

VOCAB, DIM, STEPS, CLASSES = 4002, 32, 64, 6


class Lstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, DIM)
        self.rnn = nn.LSTM(DIM, 32, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(64, CLASSES)

    def forward(self, x):
        _, (h, _) = self.rnn(self.emb(x))
        return self.out(self.drop(torch.cat([h[0], h[1]], 1)))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, DIM)
        self.pos = nn.Parameter(torch.randn(STEPS, DIM) * 0.02)
        layer = nn.TransformerEncoderLayer(DIM, 4, 64, dropout=0.1, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(DIM, CLASSES)

    def forward(self, x):
        h = self.enc(self.emb(x) + self.pos)
        return self.out(self.drop(h.mean(1)))


def read(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    head = rows[0]
    ids = [i for i, h in enumerate(head) if h.startswith("text@")]
    label = head.index("book")
    x = np.array([[float(r[i]) for i in ids] for r in rows[1:]], dtype=np.int64)
    levels = sorted({r[label] for r in rows[1:]})
    y = np.array([levels.index(r[label]) for r in rows[1:]], dtype=np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def main():
    kind, epochs, threads = sys.argv[1], int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    x, y = read(sys.argv[2])
    xv, yv = read(sys.argv[3])
    model = Lstm() if kind == "lstm" else Encoder()
    opt = torch.optim.Adam(model.parameters(), lr=0.003)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(y))
        for s in range(0, len(y), 32):
            b = perm[s:s + 32]
            opt.zero_grad()
            loss_fn(model(x[b]), y[b]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            loss_fn(model(xv), yv).item()
        times.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    med = sorted(times)[len(times) // 2]
    print(json.dumps({"peer": "pytorch " + torch.__version__, "model": kind, "threads": threads,
                      "rows": len(y), "epoch_seconds": times, "samples_per_s": len(y) / med,
                      "peak_rss_bytes": rss}))


if __name__ == "__main__":
    main()
