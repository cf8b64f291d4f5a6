"""The PyTorch peer of native-rnn's training-step benchmark (bench/bench.ts runs this).

Same step as ours: tanh RNN, dense inputs of width n_x = n_c, a linear head to V classes,
cross-entropy (mean) over all steps, Adam. Prints one JSON object per configuration with
the median step time in milliseconds for each thread count asked for.

usage: python3 torch_step.py --configs 64,32,32,64 128,32,64,65 --threads 1 2 --reps 7
"""
import argparse
import json
import statistics
import sys
import time

import torch


def bench(nc, m, T, V, threads, reps, warmup):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rnn = torch.nn.RNN(nc, nc, nonlinearity="tanh")
    head = torch.nn.Linear(nc, V)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    x = torch.randn(T, m, nc)
    y = torch.randint(0, V, (T * m,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=False)
        out, _ = rnn(x)
        loss = loss_fn(head(out.reshape(T * m, nc)), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--configs", nargs="+", required=True)
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    a = p.parse_args()
    for spec in a.configs:
        nc, m, T, V = (int(v) for v in spec.split(","))
        result = {"config": [nc, m, T, V], "torch": torch.__version__, "ms": {}}
        for th in a.threads:
            result["ms"][str(th)] = bench(nc, m, T, V, th, a.reps, a.warmup)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
