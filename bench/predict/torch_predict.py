"""PyTorch eager inference on the same trained weights, for bench/predict.

    torch_predict.py IR.json WEIGHTS.bin BATCH

IR.json is `mlpc build SPEC --emit-ir` of the spec the run was trained from
(its layers, shapes and the offsets of each layer's parameters in the flat
slab); WEIGHTS.bin is the run's weights.bin (the parameter slab, then the
batch-norm running statistics, float32). The network is rebuilt as an
nn.Sequential over those tensors, put in eval mode, and timed on one thread
under torch.no_grad(): single-row calls (median ns per call) and one batch
of BATCH rows (median rows/s). Inputs are model features (already cleaned):
PyTorch serves the model, not the cleaning, so it does less per row than
the other two. Prints one JSON line."""
import json
import sys
import time

import numpy as np
import torch
from torch import nn

ACTS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
        "leaky_relu": lambda: nn.LeakyReLU(0.01), "softmax": lambda: nn.Softmax(dim=1)}


def build(model, slab):
    """nn.Sequential of the IR's layers with the slab's tensors."""
    layers = []
    state_off = sum(l.get("params", 0) for l in model["layers"])

    def take(off, shape):
        n = int(np.prod(shape))
        return torch.from_numpy(slab[off:off + n].reshape(shape).copy())

    for l in model["layers"]:
        op, out = l["op"], l["out_shape"]
        if op == "dense":
            n_in, n_out = l["in_shape"][-1], out[-1]
            d = nn.Linear(n_in, n_out)
            d.weight.data = take(l["w_offset"], (n_out, n_in))
            d.bias.data = take(l["b_offset"], (n_out,))
            layers.append(d)
        elif op == "flatten":
            layers.append(nn.Flatten())
        elif op == "dropout":
            continue
        elif op == "batchnorm":
            c = l["in_shape"][1]
            bn = nn.BatchNorm1d(c) if len(l["in_shape"]) == 2 else nn.BatchNorm2d(c)
            bn.weight.data = take(l["w_offset"], (c,))
            bn.bias.data = take(l["b_offset"], (c,))
            bn.running_mean = take(state_off, (c,))
            bn.running_var = take(state_off + c, (c,))
            state_off += 2 * c
            layers.append(bn)
        else:
            raise SystemExit(f"torch_predict: layer {op} is not handled here")
        act = l.get("activation") or "linear"
        if act != "linear":
            layers.append(ACTS[act]())
    return nn.Sequential(*layers).eval()


def main():
    ir, weights, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    model = json.load(open(ir))["models"][0]
    torch.set_num_threads(1)
    net = build(model, np.fromfile(weights, dtype=np.float32))
    n_in = model["in_size"]
    rng = np.random.default_rng(1)
    one = torch.from_numpy(rng.standard_normal((1, n_in), dtype=np.float32))
    many = torch.from_numpy(rng.standard_normal((batch, n_in), dtype=np.float32))
    with torch.no_grad():
        for _ in range(200):
            net(one)
        calls = []
        for _ in range(2000):
            t = time.perf_counter_ns()
            net(one)
            calls.append(time.perf_counter_ns() - t)
        rates = []
        for _ in range(7):
            t = time.perf_counter()
            net(many)
            rates.append(batch / (time.perf_counter() - t))
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "ns_per_row": float(np.median(calls)),
                      "rows_per_s": float(np.median(rates))}))


main()
