"""PyTorch side of the runtime's parity test (tests/unit/check_parity.c).

Consumes the directory the C side wrote: for each run NAME below,
NAME_params.f32 (the initial parameters, one flat float32 slab in the order
of the shapes listed), NAME_x.f32 and NAME_y.i32 (every training batch, in
order) and, for a masked run, NAME_mask.f32 (each batch's steps, 1 real and 0
padding, the padding in front). Trains the same model from the same weights on the same batches with
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
ARCHS["emb_bilstm_masked"] = ARCHS["emb_bilstm"]

# Transformer encoders over 6 steps of 5 features: width 8, 2 heads, 16 hidden units, 2 blocks.
# name: (norm_first, activation, learned positions, pooling)
ENCODERS = {"enc_post": (False, "gelu", True, "mean"), "enc_pre": (True, "relu", False, "max"),
            "enc_post_masked": (False, "gelu", True, "mean")}
ENC_T, ENC_F, ENC_D, ENC_FF, ENC_HEADS, ENC_LAYERS = 6, 5, 8, 16, 2, 2


def encoder_module(arch):
    norm_first, act, _, _ = ENCODERS[arch]
    layer = torch.nn.TransformerEncoderLayer(ENC_D, ENC_HEADS, ENC_FF, dropout=0.0, activation=act,
                                             batch_first=True, norm_first=norm_first)
    return torch.nn.TransformerEncoder(layer, ENC_LAYERS, enable_nested_tensor=False).train()


def encoder_shapes(arch):
    """The slab: the input projection, the learned positions, each block's tensors, the dense layer."""
    learned = ENCODERS[arch][2]
    head = [(ENC_D, ENC_F), (ENC_D,)] + ([(ENC_T, ENC_D)] if learned else [])
    blocks = [tuple(p.shape) for p in encoder_module(arch).parameters()]
    return head + blocks + [(3, ENC_D), (3,)]


for _arch in ENCODERS:
    ARCHS[_arch] = (encoder_shapes(_arch), 8, (ENC_T, ENC_F))


def sinusoids():
    t = torch.arange(ENC_T, dtype=torch.float64)[:, None]
    j = torch.arange(ENC_D)
    a = t / torch.pow(10000.0, (j - j % 2).double() / ENC_D)
    return torch.where(j % 2 == 1, torch.cos(a), torch.sin(a)).float()


def encoder_forward(arch, ps, x, mask):
    _, _, learned, pool = ENCODERS[arch]
    h = F.linear(x, ps[0], ps[1]) + (ps[2] if learned else sinusoids())
    rest = ps[3:] if learned else ps[2:]
    module = encoder_module(arch)
    names = [n for n, _ in module.named_parameters()]
    if mask is None:
        h = torch.nn.utils.stateless.functional_call(module, dict(zip(names, rest[:-2])), (h,))
        h = h.mean(1) if pool == "mean" else h.max(1).values
    else:
        # padded keys ignored; the mean over each row's real steps
        kw = {"src_key_padding_mask": mask == 0}
        h = torch.nn.utils.stateless.functional_call(module, dict(zip(names, rest[:-2])), (h,), kw)
        h = (h * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True)
    return F.linear(h, rest[-2], rest[-1])


def packed_bilstm(e, mask, ws):
    """A bidirectional LSTM over each row's real steps (padding in front, moved behind for
    pack_padded_sequence): its two last states side by side."""
    lengths = mask.sum(1).long()
    T = e.shape[1]
    # row b's real steps first: step t reads step (t + padding) % T
    idx = (torch.arange(T)[None, :] + (T - lengths)[:, None]) % T
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.gather(e, 1, idx[:, :, None].expand_as(e)),
                                                     lengths, batch_first=True, enforce_sorted=False)
    # PyTorch's packed kernel (nn.LSTM's): (data, batch sizes, initial state, weights, has_biases, layers,
    # dropout, train, bidirectional); its states in the sorted order, put back in the batch's
    h0 = (e.new_zeros(2, e.shape[0], 8),) * 2
    h_n = torch._VF.lstm(packed.data, packed.batch_sizes, h0, ws, True, 1, 0.0, True, True)[1]
    h_n = h_n.index_select(1, packed.unsorted_indices)
    return torch.cat([h_n[0], h_n[1]], 1)

# PyTorch's own recurrent kernels (what nn.LSTM and nn.GRU call), given the slab's tensors:
# (input, initial state, weights, has_biases, layers, dropout, train, bidirectional, batch_first)
CELLS = {
    "lstm": lambda x, w: torch._VF.lstm(x, (x.new_zeros(1, x.shape[0], 8),) * 2, w, True, 1, 0.0, True, False,
                                        True)[0],
    "gru": lambda x, w: torch._VF.gru(x, x.new_zeros(1, x.shape[0], 8), w, True, 1, 0.0, True, False,
                                      True)[0],
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
    "enc_post_adam": ("enc_post", lambda ps: torch.optim.Adam(ps, lr=0.01), None, None),
    "enc_pre_adam": ("enc_pre", lambda ps: torch.optim.Adam(ps, lr=0.01), None, None),
    "emb_bilstm_masked_adam": ("emb_bilstm_masked", lambda ps: torch.optim.Adam(ps, lr=0.01), None, None),
    "enc_post_masked_adam": ("enc_post_masked", lambda ps: torch.optim.Adam(ps, lr=0.01), None, None),
}


def forward(arch, ps, x, mask):
    if arch == "emb_bilstm_masked":
        return F.linear(packed_bilstm(F.embedding(x.long(), ps[0]), mask, ps[1:9]), ps[9], ps[10])
    if arch == "emb_bilstm":
        e = F.embedding(x.long(), ps[0])
        h0 = (e.new_zeros(2, e.shape[0], 8),) * 2
        seq = torch._VF.lstm(e, h0, ps[1:9], True, 1, 0.0, True, True, True)[0]
        return F.linear(torch.cat([seq[:, -1, :8], seq[:, 0, 8:]], 1), ps[9], ps[10])
    if arch in ENCODERS:
        return encoder_forward(arch, ps, x, mask)
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
    masks = [None] * STEPS
    mask_file = os.path.join(d, name + "_mask.f32")
    if os.path.exists(mask_file):
        masks = torch.from_numpy(np.fromfile(mask_file, dtype=np.float32).reshape(STEPS, batch, -1))
    opt = make_opt(ps)
    sched = make_sched(opt) if make_sched else None
    losses = []
    for t in range(STEPS):
        opt.zero_grad()
        loss = F.cross_entropy(forward(arch, ps, xs[t], masks[t]), ys[t])
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
