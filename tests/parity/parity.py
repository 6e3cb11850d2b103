"""PyTorch side of the runtime's parity test (tests/unit/check_parity.c).

Consumes the directory the C side wrote: for each model NAME in (mlp, cnn),
NAME_params.f32 (the initial parameters, one flat float32 slab in the order
listed below), NAME_x.f32 and NAME_y.i32 (every training batch, in order).
Trains the same model from the same weights on the same batches with
torch.optim in float32 on one thread, and writes NAME_loss.f32 (the loss at
every step, before its update) and NAME_final.f32 (the parameters after the
last step, same slab order), for the C side to compare.

Usage: /usr/bin/python3 tests/parity/parity.py DIR
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

STEPS = 100

# name: (parameter shapes in slab order, batch size, input shape, optimizer)
MODELS = {
    "mlp": ([(32, 20), (32,), (16, 32), (16,), (3, 16), (3,)], 16, (20,),
            lambda ps: torch.optim.Adam(ps, lr=0.01)),
    "cnn": ([(4, 1, 3, 3), (4,), (3, 64), (3,)], 8, (1, 8, 8),
            lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
}


def forward(name, ps, x):
    if name == "mlp":
        w1, b1, w2, b2, w3, b3 = ps
        h = F.relu(F.linear(x, w1, b1))
        h = F.relu(F.linear(h, w2, b2))
        return F.linear(h, w3, b3)
    cw, cb, dw, db = ps
    h = F.max_pool2d(F.relu(F.conv2d(x, cw, cb, padding=1)), 2)
    return F.linear(torch.flatten(h, 1), dw, db)


def run(name, d):
    shapes, batch, in_shape, make_opt = MODELS[name]
    flat = np.fromfile(os.path.join(d, name + "_params.f32"), dtype=np.float32)
    ps, off = [], 0
    for s in shapes:
        n = int(np.prod(s))
        ps.append(torch.tensor(flat[off:off + n].reshape(s), requires_grad=True))
        off += n
    assert off == flat.size, "parameter slab size mismatch"
    xs = np.fromfile(os.path.join(d, name + "_x.f32"), dtype=np.float32)
    xs = torch.from_numpy(xs.reshape((STEPS, batch) + in_shape))
    ys = np.fromfile(os.path.join(d, name + "_y.i32"), dtype=np.int32)
    ys = torch.from_numpy(ys.astype(np.int64).reshape(STEPS, batch))
    opt = make_opt(ps)
    losses = []
    for t in range(STEPS):
        opt.zero_grad()
        loss = F.cross_entropy(forward(name, ps, xs[t]), ys[t])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    np.asarray(losses, dtype=np.float32).tofile(os.path.join(d, name + "_loss.f32"))
    final = torch.cat([p.detach().reshape(-1) for p in ps]).numpy()
    final.astype(np.float32).tofile(os.path.join(d, name + "_final.f32"))


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    for name in MODELS:
        run(name, sys.argv[1])


if __name__ == "__main__":
    main()
