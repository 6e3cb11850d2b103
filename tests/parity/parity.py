"""PyTorch side of the runtime's parity test (tests/unit/check_parity.c).

Consumes the directory the C side wrote: for each run NAME below,
NAME_params.f32 (the initial parameters, one flat float32 slab in the order
of the shapes listed), NAME_x.f32 and NAME_y.i32 (every training batch, in
order). Trains the same model from the same weights on the same batches with
torch.optim in float32 on one thread, and writes NAME_loss.f32 (the loss at
every step, before its update) and NAME_final.f32 (the parameters after the
last step, same slab order), for the C side to compare. The settings of
each run mirror the C side's, key by key.

Usage: /usr/bin/python3 tests/parity/parity.py DIR
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

STEPS = 100

ARCHS = {
    # parameter shapes in slab order (weight, bias pairs), batch, input shape
    "mlp": ([(32, 20), (32,), (16, 32), (16,), (3, 16), (3,)], 16, (20,)),
    "cnn": ([(4, 1, 3, 3), (4,), (3, 64), (3,)], 8, (1, 8, 8)),
    "mlp_ln": ([(32, 20), (32,), (32,), (32,), (16, 32), (16,), (3, 16), (3,)], 16, (20,)),
    # W_ih, W_hh, b_ih, b_hh of 8 units over 6 steps of 5 features, then the dense layer
    "lstm": ([(32, 5), (32, 8), (32,), (32,), (3, 8), (3,)], 8, (6, 5)),
    "gru": ([(24, 5), (24, 8), (24,), (24,), (3, 8), (3,)], 8, (6, 5)),
    # an embedding of 12 codes in 5 dimensions over 6 steps, a bidirectional LSTM of 8 units (the forward
    # direction's W_ih, W_hh, b_ih, b_hh, then the reverse one's), the dense layer on both last states
    "emb_bilstm": ([(12, 5)] + [(32, 5), (32, 8), (32,), (32,)] * 2 + [(3, 16), (3,)], 8, (6,)),
}

# PyTorch's own recurrent kernels (what nn.LSTM and nn.GRU call), given the slab's tensors:
# (input, initial state, weights, has_biases, layers, dropout, train, bidirectional, batch_first)
CELLS = {
    "lstm": lambda x, w: torch._VF.lstm(x, (x.new_zeros(1, x.shape[0], 8),) * 2, w, True, 1, 0.0, True, False,
                                        True)[0],
    "gru": lambda x, w: torch._VF.gru(x, x.new_zeros(1, x.shape[0], 8), w, True, 1, 0.0, True, False, True)[0],
}


def groups(ps, decay):
    """Weights take decay, biases none: the C side's decay mask."""
    return [{"params": ps[0::2], "weight_decay": decay}, {"params": ps[1::2], "weight_decay": 0.0}]


# name: (architecture, optimizer, scheduler, clip)
RUNS = {
    "mlp_adam": ("mlp", lambda ps: torch.optim.Adam(ps, lr=0.01), None, None),
    "cnn_sgd": ("cnn", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9), None, None),
    "mlp_adamw": ("mlp", lambda ps: torch.optim.AdamW(groups(ps, 0.05), lr=0.01),
                  lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=STEPS, eta_min=0.001),
                  lambda ps: torch.nn.utils.clip_grad_norm_(ps, 0.5)),
    "mlp_rmsprop": ("mlp", lambda ps: torch.optim.RMSprop(groups(ps, 1e-3), lr=0.003, centered=True,
                                                          momentum=0.5),
                    lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.5),
                    lambda ps: torch.nn.utils.clip_grad_value_(ps, 0.2)),
    "mlp_ln_adam": ("mlp_ln", lambda ps: torch.optim.Adam(ps, lr=0.01), None, None),
    "lstm_adam": ("lstm", lambda ps: torch.optim.Adam(ps, lr=0.01), None, None),
    "gru_adam": ("gru", lambda ps: torch.optim.Adam(ps, lr=0.01), None, None),
    "emb_bilstm_adam": ("emb_bilstm", lambda ps: torch.optim.Adam(ps, lr=0.01), None, None),
}


def forward(arch, ps, x):
    if arch == "emb_bilstm":
        e = F.embedding(x.long(), ps[0])
        seq = torch._VF.lstm(e, (e.new_zeros(2, e.shape[0], 8),) * 2, ps[1:9], True, 1, 0.0, True, True, True)[0]
        return F.linear(torch.cat([seq[:, -1, :8], seq[:, 0, 8:]], 1), ps[9], ps[10])
    if arch in CELLS:
        seq = CELLS[arch](x, ps[:4])
        return F.linear(seq[:, -1], ps[4], ps[5])
    if arch == "mlp_ln":
        w1, b1, lw, lb, w2, b2, w3, b3 = ps
        h = F.layer_norm(F.relu(F.linear(x, w1, b1)), (w1.shape[0],), lw, lb, eps=1e-5)
        h = F.relu(F.linear(h, w2, b2))
        return F.linear(h, w3, b3)
    if arch == "mlp":
        w1, b1, w2, b2, w3, b3 = ps
        h = F.relu(F.linear(x, w1, b1))
        h = F.relu(F.linear(h, w2, b2))
        return F.linear(h, w3, b3)
    cw, cb, dw, db = ps
    h = F.max_pool2d(F.relu(F.conv2d(x, cw, cb, padding=1)), 2)
    return F.linear(torch.flatten(h, 1), dw, db)


def run(name, d):
    arch, make_opt, make_sched, clip = RUNS[name]
    shapes, batch, in_shape = ARCHS[arch]
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
    sched = make_sched(opt) if make_sched else None
    losses = []
    for t in range(STEPS):
        opt.zero_grad()
        loss = F.cross_entropy(forward(arch, ps, xs[t]), ys[t])
        loss.backward()
        if clip:
            clip(ps)
        opt.step()
        if sched:
            sched.step()
        losses.append(loss.item())
    np.asarray(losses, dtype=np.float32).tofile(os.path.join(d, name + "_loss.f32"))
    final = torch.cat([p.detach().reshape(-1) for p in ps]).numpy()
    final.astype(np.float32).tofile(os.path.join(d, name + "_final.f32"))


def main():
    torch.set_num_threads(1)
    for name in RUNS:
        run(name, sys.argv[1])


if __name__ == "__main__":
    main()
