"""torch.optim's side of bench/optim_speed.sh: the same optimizers and the
same 10M-parameter slab as bench/optim.c, one thread, float32, nanoseconds
per parameter, median of 9 timed steps after one warm-up step."""
import statistics
import time

import torch

N, RUNS = 10_000_000, 9


def timed(fn):
    fn()
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e9 * statistics.median(times) / N


def main():
    torch.set_num_threads(1)
    opts = [("sgd+momentum", lambda p: torch.optim.SGD([p], lr=0.01, momentum=0.9)),
            ("adam", lambda p: torch.optim.Adam([p])),
            ("adamw", lambda p: torch.optim.AdamW([p])),
            ("rmsprop+momentum", lambda p: torch.optim.RMSprop([p], momentum=0.9))]
    for name, make in opts:
        p = torch.zeros(N, requires_grad=True)
        p.grad = torch.randn(N)
        opt = make(p)
        print(f"torch {name:17s} {timed(opt.step):5.2f} ns/param")
    p = torch.zeros(N, requires_grad=True)
    p.grad = torch.randn(N)
    ns = timed(lambda: torch.nn.utils.clip_grad_norm_([p], 1e30))
    print(f"torch {'clip_grad_norm':17s} {ns:5.2f} ns/param")


if __name__ == "__main__":
    main()
