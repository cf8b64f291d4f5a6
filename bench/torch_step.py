"""The PyTorch peer of native-rnn's training-step benchmark (bench/bench.ts runs this).

Same step as ours: a recurrent layer (--cell rnn: tanh nn.RNN; lstm: nn.LSTM; gru: nn.GRU),
dense inputs of width n_x = n_c, a linear head to V classes, cross-entropy (mean) over all
steps, Adam. With --mode cell: the bare layer's forward and backward over the sequence, the
input gradient included (what RNNCell/LSTMCell/GRUCell forwardSequence + backwardSequence do),
configs n_c,m,T. Prints one JSON object per configuration with the median time in
milliseconds for each thread count asked for.

usage: python3 torch_step.py --configs 64,32,32,64 128,32,64,65 --threads 1 2 --reps 7
       python3 torch_step.py --mode cell --cell lstm --configs 128,32,32 --threads 1 2
"""
import argparse
import json
import statistics
import sys
import time

import torch


def layer(cell, nc):
    if cell == "lstm":
        return torch.nn.LSTM(nc, nc)
    if cell == "gru":
        return torch.nn.GRU(nc, nc)
    return torch.nn.RNN(nc, nc, nonlinearity="tanh")


def timed(step, reps, warmup):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def bench_cell(cell, nc, m, T, threads, reps, warmup):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rnn = layer(cell, nc)
    x = torch.randn(T, m, nc, requires_grad=True)
    dh = torch.randn(T, m, nc)

    def step():
        rnn.zero_grad(set_to_none=False)
        x.grad = None
        out, _ = rnn(x)
        out.backward(dh)

    return timed(step, reps, warmup)


def bench(cell, nc, m, T, V, threads, reps, warmup):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rnn = layer(cell, nc)
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

    return timed(step, reps, warmup)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--configs", nargs="+", required=True)
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="rnn")
    p.add_argument("--mode", choices=["step", "cell"], default="step")
    a = p.parse_args()
    for spec in a.configs:
        config = [int(v) for v in spec.split(",")]
        result = {"config": config, "cell": a.cell, "mode": a.mode, "torch": torch.__version__, "ms": {}}
        for th in a.threads:
            if a.mode == "cell":
                result["ms"][str(th)] = bench_cell(a.cell, *config, th, a.reps, a.warmup)
            else:
                result["ms"][str(th)] = bench(a.cell, *config, th, a.reps, a.warmup)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
