"""PyTorch's side of the generated optimizer update (tests/unit/check_codegen.c).

    optim.py DIR KIND [NAME=VALUE ...]

Reads DIR/params.f32 (the initial parameters, one flat float32 slab) and
DIR/grads.f32 (the gradient of every step, steps x parameters), takes one
torch.optim step per gradient in float32 on one thread, writes the final
parameters to DIR/final.f32 and prints one JSON object: "steps". KIND and
its settings, named as the spec names them:
  rmsprop lr=... rho=... eps=... momentum=... l2=...   RMSprop (alpha = rho, weight_decay = l2)
Exit status 2 when PyTorch is missing (the caller skips)."""
import json
import os
import sys

import numpy as np

try:
    import torch
except ImportError:
    sys.exit(2)


def main():
    folder, kind = sys.argv[1], sys.argv[2]
    opts = dict(a.split("=", 1) for a in sys.argv[3:])
    torch.set_num_threads(1)
    p0 = np.fromfile(os.path.join(folder, "params.f32"), dtype=np.float32)
    grads = np.fromfile(os.path.join(folder, "grads.f32"), dtype=np.float32).reshape(-1, p0.size)
    p = torch.tensor(p0, requires_grad=True)
    if kind != "rmsprop":
        sys.exit("unknown optimizer " + kind)
    opt = torch.optim.RMSprop([p], lr=float(opts["lr"]), alpha=float(opts["rho"]), eps=float(opts["eps"]),
                              momentum=float(opts["momentum"]), weight_decay=float(opts["l2"]))
    for g in grads:
        p.grad = torch.from_numpy(g.copy())
        opt.step()
    p.detach().numpy().astype(np.float32).tofile(os.path.join(folder, "final.f32"))
    print(json.dumps({"steps": len(grads)}))


if __name__ == "__main__":
    main()
