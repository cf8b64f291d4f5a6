#!/usr/bin/python3
"""Our LSTM/GRU kernels (native/bench/cells_bench) against PyTorch's nn.LSTM / nn.GRU.

One forward + backward over a whole sequence, float32, with the input gradient, n_x = n_c,
at 1 and 2 threads. Each measurement is a fresh process (so neither side's idle threads spin
on a core the other needs) that reports the median of --reps repetitions after a warm-up; the
two sides alternate for --rounds rounds and the median of the rounds' medians is printed, with
the ratio PyTorch / ours (> 1: ours is faster) computed from figures of the same run.

  cmake --build build-cmake --target cells_bench
  /usr/bin/python3 native/bench/cells_vs_torch.py [--bench build-cmake/cells_bench]
      [--rounds 3] [--reps 15] [--cells lstm,gru] [--shapes 128x32x32,256x64x32,512x64x32]
      [--json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def torch_worker(cell, nc, m, T, threads, reps):
    """Runs in its own process: the median milliseconds of PyTorch's forward + backward."""
    import torch

    # the same timer as bench/torch_step.py (the training-step bench's PyTorch side)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
    from torch_step import timed

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    mod = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(nc, nc).float()
    x = torch.rand(T, m, nc, requires_grad=True)
    h0 = torch.zeros(1, m, nc, requires_grad=True)
    state = (h0, torch.zeros(1, m, nc, requires_grad=True)) if cell == "lstm" else h0
    dH = torch.rand(T, m, nc) * 2 - 1

    def once():
        for p in mod.parameters():
            p.grad = None
        x.grad = None
        y, _ = mod(x, state)
        y.backward(dH)

    return timed(once, reps, 3)  # median ms of reps calls after 3 warm-up calls


def run_torch(cell, nc, m, T, threads, reps):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([sys.executable, __file__, "--worker", cell, str(nc), str(m), str(T),
                          str(threads), str(reps)], env=env, check=True, capture_output=True,
                         text=True).stdout
    return float(out.strip().splitlines()[-1])


def run_ours(bench, cell, nc, m, T, threads, reps):
    out = subprocess.run([bench, "--cell", cell, "--nc", str(nc), "--m", str(m), "--T", str(T),
                          "--threads", str(threads), "--reps", str(reps), "--json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["median_ms"]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        cell, nc, m, T, threads, reps = sys.argv[2], *map(int, sys.argv[3:8])
        print(torch_worker(cell, nc, m, T, threads, reps))
        return
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join(root, "build-cmake", "cells_bench"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--cells", default="lstm,gru")
    ap.add_argument("--shapes", default="128x32x32,256x64x32,512x64x32")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(a.bench):
        sys.exit(f"{a.bench} not found: cmake --build build-cmake --target cells_bench")
    rows = []
    for cell in a.cells.split(","):
        for shape in a.shapes.split(","):
            nc, m, T = map(int, shape.split("x"))
            for threads in map(int, a.threads.split(",")):
                ours, theirs = [], []
                for _ in range(a.rounds):
                    theirs.append(run_torch(cell, nc, m, T, threads, a.reps))
                    ours.append(run_ours(a.bench, cell, nc, m, T, threads, a.reps))
                row = {"cell": cell, "nc": nc, "m": m, "T": T, "threads": threads,
                       "ours_ms": statistics.median(ours), "torch_ms": statistics.median(theirs)}
                row["torch_over_ours"] = row["torch_ms"] / row["ours_ms"]
                rows.append(row)
                if a.json:
                    print(json.dumps(row), flush=True)
                else:
                    print(f"{cell} n_c={nc:4d} m={m:3d} T={T:3d} threads={threads}: ours "
                          f"{row['ours_ms']:8.3f} ms  torch {row['torch_ms']:8.3f} ms  "
                          f"torch/ours {row['torch_over_ours']:5.2f}", flush=True)
    if not a.json:
        # per shape, the best of each side over the thread counts
        print("best over threads:")
        for cell in a.cells.split(","):
            for shape in a.shapes.split(","):
                nc, m, T = map(int, shape.split("x"))
                sel = [r for r in rows if (r["cell"], r["nc"], r["m"], r["T"]) == (cell, nc, m, T)]
                o = min(r["ours_ms"] for r in sel)
                t = min(r["torch_ms"] for r in sel)
                print(f"  {cell} {nc}x{m}x{T}: ours {o:.3f} ms, torch {t:.3f} ms, torch/ours {t / o:.2f}")


if __name__ == "__main__":
    main()
