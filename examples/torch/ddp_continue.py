#!/usr/bin/env python3
"""Continue a native-rnn training run on several processes with PyTorch's DistributedDataParallel.

  # two processes on this machine, gloo over 127.0.0.1 (torch.multiprocessing.spawn):
  python3 ddp_continue.py IN.safetensors OUT.safetensors --steps 500 --nprocs 2
  # the same under torchrun (it sets RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT):
  torchrun --nproc_per_node 2 ddp_continue.py IN.safetensors OUT.safetensors --steps 500

IN is a checkpoint `native-rnn train` wrote (any cell kind: rnn, lstm, gru). The run goes on
exactly as `native-rnn train --resume IN` would: the same training part of the same text (split
as native-rnn splits it; its sha256 is checked), the same batch of parallel streams cut into
chunks of the same length, from the checkpoint's step, epoch and position in the data and its
carried hidden states, with the same optimizer (its state is loaded), learning-rate schedule
and gradient clipping. The batch's streams are divided among the processes (the batch must be
a multiple of their number); DDP averages the gradients, so every step is the step one process
would take on the whole batch.

OUT is a native-rnn checkpoint again (weights with PyTorch's state_dict names, no `module.`
prefix; the vocabulary, config and run settings as they were; the trainer counters, optimizer
state and carried hidden states as they are now), so `native-rnn sample --checkpoint OUT` and
`native-rnn train --resume OUT --steps N` work on it. Rank 0 writes it (a temp file, then a rename).

Needs only torch (no `safetensors` package: the reader and writer are below). Options:
  --steps N          steps to train here (required)
  --data FILE        the run's text, when it is not at the path the checkpoint records
  --nprocs P         processes for torch.multiprocessing.spawn (default 2; ignored under torchrun)
  --init-method URL  the rendezvous for spawn (default tcp://127.0.0.1:<a free port>)
  --threads N        torch threads per process (default 1)
  --log-every N      print a line every N steps (default 10); --json prints one JSON object a step
"""
import argparse
import hashlib
import json
import math
import os
import socket
import struct
import sys

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

# --------------------------------------------------------------------------------------------
# safetensors, little-endian, F32/F64/I64 (the format native-rnn writes)

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    """(tensors: {name: tensor}, metadata: {str: str})"""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = buf[8 + n:]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        t = torch.empty(0, dtype=dtype) if begin == end else torch.frombuffer(bytearray(data[begin:end]), dtype=dtype)
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors, metadata


def tensor_bytes(t):
    u8 = t.reshape(-1).view(torch.uint8)
    try:
        return u8.numpy().tobytes()
    except (ImportError, RuntimeError):  # torch without numpy
        return bytes(u8.tolist())


def write_safetensors(path, tensors, metadata):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        raw = tensor_bytes(t)
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header["__metadata__"] = dict(metadata)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)  # the data starts 8-aligned
    temp = f"{path}.tmp-{os.getpid()}"
    with open(temp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


# --------------------------------------------------------------------------------------------
# native-rnn's data path: its generator (xoshiro128**, lib/random.ts), its train/validation
# split (lib/data/split.ts) and its built-in names (lib/data/names.ts), so the ids here are the
# ids `native-rnn train` trained on.

M32 = 0xFFFFFFFF


def _mix32(z):
    z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
    z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
    return (z ^ (z >> 16)) & M32


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Random:
    def __init__(self, seed):
        wide = seed & 0xFFFFFFFFFFFFFFFF
        lo, hi = wide & M32, wide >> 32
        x = (lo ^ _mix32(hi ^ 0x6A09E667)) & M32
        words = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & M32
            words.append(_mix32(x))
        if not any(words):
            words[0] = 1
        self.s = words

    def next_uint32(self):
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & M32, 7) * 9) & M32
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def int(self, n):
        assert 0 < n <= 2 ** 32
        limit = 2 ** 32 - (2 ** 32 % n)
        while True:
            x = self.next_uint32()
            if x < limit:
                return x % n

    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.int(i + 1)
            a[i], a[j] = a[j], a[i]
        return a


def split_lines(text):
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def js_round(x):
    return math.floor(x + 0.5)


def training_text(text, val_fraction, seed, separate_validation):
    """The training part, each line ending in '\\n', as splitTrainValidation gives it."""
    lines = split_lines(text)
    n = len(lines)
    frac = 0 if separate_validation else val_fraction
    held_n = js_round(frac * n)
    if frac > 0 and n >= 2:
        held_n = min(max(held_n, 1), n - 1)
    elif n < 2:
        held_n = 0
    order = Random(seed).shuffle(list(range(n)))
    held = set(order[:held_n])
    return "".join(f"{line}\n" for i, line in enumerate(lines) if i not in held)


BUILTIN_NAMES_SEED = 20240611


def builtin_names_text(package_root):
    with open(os.path.join(package_root, "data", "names.json"), "rb") as f:
        lists = json.loads(f.read().decode("utf-8"))["lists"]
    seen, names = set(), []
    for lst in lists:
        for name in lst["names"]:
            if name not in seen:
                seen.add(name)
                names.append(name)
    return "\n".join(Random(BUILTIN_NAMES_SEED).shuffle(names)) + "\n"


def read_text_file(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------------------------
# The model: PyTorch's nn.RNN / nn.LSTM / nn.GRU and nn.Linear under native-rnn's names.

class CharModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        kind, V, H, L = c["cell"], c["inputSize"], c["hiddenSize"], c["numLayers"]
        if kind == "rnn":
            if c["activation"] not in ("tanh", "relu"):
                raise SystemExit(f"ddp_continue: nn.RNN has no {c['activation']} nonlinearity (tanh and relu only)")
            self.rnn = nn.RNN(V, H, L, nonlinearity=c["activation"])
        elif kind == "lstm":
            self.rnn = nn.LSTM(V, H, L)
        elif kind == "gru":
            self.rnn = nn.GRU(V, H, L)
        else:
            raise SystemExit(f"ddp_continue: cell kind '{kind}' has no PyTorch module here (rnn, lstm, gru)")
        self.head = nn.Linear(H, c["outputSize"])
        self.vocab = V

    def forward(self, ids, state):  # ids: (T, m) token ids
        x = nn.functional.one_hot(ids, self.vocab).to(self.head.weight.dtype)
        y, state = self.rnn(x, state)
        return self.head(y), state


def flat_parameters(model, config):
    """The parameters in native-rnn's flat order (RNNModel.entries): per layer W_ih, W_hh, the
    bias(es), then the head. The vanilla cell has ONE bias per layer: bias_ih here, bias_hh is
    held at zero and not trained (two trained biases would take two steps where native-rnn takes one)."""
    out = []
    for k in range(config["numLayers"]):
        out.append(getattr(model.rnn, f"weight_ih_l{k}"))
        out.append(getattr(model.rnn, f"weight_hh_l{k}"))
        out.append(getattr(model.rnn, f"bias_ih_l{k}"))
        if config["cell"] != "rnn":
            out.append(getattr(model.rnn, f"bias_hh_l{k}"))
    out += [model.head.weight, model.head.bias]
    return out


# native-rnn's optimizer state names (optim.<name>, flat) and PyTorch's per-parameter ones
STATE_NAMES = {"sgd": {"velocity": "momentum_buffer"}, "adam": {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"},
               "adagrad": {"sum": "sum"}, "rmsprop": {"square_avg": "square_avg"}}
STATE_NAMES["adamw"] = STATE_NAMES["adam"]


def make_optimizer(params, o):
    name, lr, wd = o["name"], o["lr"], o["weightDecay"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=o["momentum"], nesterov=o["nesterov"], weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(o["betas"]), eps=o["eps"], weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=tuple(o["betas"]), eps=o["eps"], weight_decay=wd)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, eps=o["eps"], weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=o["alpha"], eps=o["eps"], weight_decay=wd)
    raise SystemExit(f"ddp_continue: optimizer '{name}' is not one this script maps")


def lr_factor(run, step, total):
    """lib/train/schedule.ts as `native-rnn train` builds it: warm-up, then constant or cosine."""
    warmup = run.get("warmup", 0)
    base = 1.0
    if run.get("schedule", "constant") == "cosine":
        t = min(1.0, max(0, step - warmup) / max(1, total - warmup))
        base = 0.5 * (1 + math.cos(math.pi * t))
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup * base
    return base


# --------------------------------------------------------------------------------------------

def load_run(args):
    tensors, meta = read_safetensors(args.input)
    for key in ("config", "vocabulary", "trainer", "optimizer", "run"):
        if key not in meta:
            raise SystemExit(f"ddp_continue: {args.input} has no '{key}' metadata: it is not a checkpoint of `native-rnn train` "
                             "(a best checkpoint or a library checkpoint without a trainer cannot be continued)")
    config = json.loads(meta["config"])
    config.setdefault("cell", "rnn")
    run = json.loads(meta["run"])
    symbols = json.loads(meta["vocabulary"])["symbols"]
    if args.data is not None:
        text = read_text_file(args.data)
    elif run["data"]["kind"] == "builtin":
        text = builtin_names_text(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    else:
        text = read_text_file(run["data"]["path"])
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if digest != run["sha256"]:
        raise SystemExit(f"ddp_continue: the text is not the one {args.input} was trained on (sha256 {digest}, the run's {run['sha256']}); "
                         "give the run's data with --data FILE")
    train = training_text(text, run["valFraction"], run["splitSeed"], run.get("valData") is not None)
    index = {s: i for i, s in enumerate(symbols)}
    ids = torch.tensor([index[ch] for ch in train], dtype=torch.int64)
    return tensors, meta, config, run, ids


def check_world(run, world):
    if run["batch"] % world != 0:
        raise SystemExit(f"ddp_continue: the run's batch of {run['batch']} streams does not divide among {world} processes")


def worker(rank, world, args, init_method):
    # Everything that can refuse the run is checked before joining the group, so no rank waits on one that left.
    tensors, meta, config, run, ids = load_run(args)
    check_world(run, world)
    if init_method is not None:
        dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world)
    else:
        dist.init_process_group("gloo")  # torchrun's environment
    torch.set_num_threads(args.threads)
    trainer = json.loads(meta["trainer"])
    opt_meta = json.loads(meta["optimizer"])
    m, T, H, L = run["batch"], run["seqLength"], config["hiddenSize"], config["numLayers"]
    per = m // world
    lo, hi = rank * per, (rank + 1) * per
    dtype = tensors["head.weight"].dtype

    model = CharModel(config).to(dtype)
    state_dict = {k: v for k, v in tensors.items() if k.startswith(("rnn.", "head."))}
    if config["cell"] == "rnn":  # one bias: b = b_ih + b_hh lives in bias_ih
        for k in range(L):
            state_dict[f"rnn.bias_ih_l{k}"] = state_dict[f"rnn.bias_ih_l{k}"] + state_dict[f"rnn.bias_hh_l{k}"]
            state_dict[f"rnn.bias_hh_l{k}"] = torch.zeros_like(state_dict[f"rnn.bias_hh_l{k}"])
    model.load_state_dict(state_dict)
    params = flat_parameters(model, config)
    trained = {id(p) for p in params}
    for p in model.parameters():
        if id(p) not in trained:
            p.requires_grad_(False)
    ddp = DDP(model)
    optimizer = make_optimizer(params, opt_meta)

    # native-rnn's flat optimizer state, cut into the parameters' shapes.
    names = STATE_NAMES[opt_meta["name"]]
    size = sum(p.numel() for p in params)
    opt_step = int(opt_meta.get("step", trainer["step"]))
    for ours, theirs in names.items():
        flat = tensors.get(f"optim.{ours}")
        if flat is None:
            continue
        if flat.numel() != size:
            raise SystemExit(f"ddp_continue: optim.{ours} has {flat.numel()} values, the model {size} parameters")
        at = 0
        for p in params:
            st = optimizer.state[p]
            st[theirs] = flat[at:at + p.numel()].reshape(p.shape).clone().to(dtype)
            if opt_meta["name"] != "sgd":
                st["step"] = torch.tensor(float(opt_step))
            at += p.numel()

    # The streams: L_s tokens each, chunk k of stream j at j·L_s + k·T (lib/train/streams.ts).
    Ls = ids.numel() // m
    chunks = (Ls - 1) // T
    if chunks < 1:
        raise SystemExit(f"ddp_continue: {ids.numel()} tokens are too few for {m} streams of {T}")
    total = run["epochs"] * chunks if run.get("epochs") is not None else run["steps"]
    step, epoch, position = trainer["step"], trainer["epoch"], trainer["position"]
    end = step + args.steps
    if run.get("schedule") == "cosine" and end > total:
        raise SystemExit(f"ddp_continue: a cosine run anneals over its {total} steps; {end} is past them")
    if position >= chunks:
        position = 0

    key = f"state.{T}x{m}"
    names_of_states = ["h", "c"] if config["cell"] == "lstm" else ["h"]

    def carried(name):
        out = []
        for k in range(L):
            t = tensors.get(f"{key}.l{k}" if name == "h" else f"{key}.l{k}.{name}")
            out.append(torch.zeros(H, m, dtype=dtype) if t is None else t)
        return torch.stack([t.t() for t in out])[:, lo:hi, :].contiguous()  # (L, per, H)

    state = [carried(s) for s in names_of_states]
    starts = torch.arange(lo, hi) * Ls
    clip = run["clip"]
    losses = []
    while step < end:
        if position == 0:
            state = [torch.zeros_like(s) for s in state]
        offsets = starts[None, :] + position * T + torch.arange(T)[:, None]  # (T, per)
        x, y = ids[offsets], ids[offsets + 1]
        logits, new_state = ddp(x, tuple(state) if len(state) > 1 else state[0])
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad(set_to_none=False)
        loss.backward()  # DDP averages the gradients over the processes: the whole batch's mean
        with torch.no_grad():
            norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params))
            if norm > clip:  # native-rnn's clipping: scale by clip / norm
                for p in params:
                    p.grad.mul_(clip / norm.item())
            lr = opt_meta["lr"] * lr_factor(run, step, total)
            for g in optimizer.param_groups:
                g["lr"] = lr
            optimizer.step()
        state = [s.detach() for s in (new_state if isinstance(new_state, tuple) else (new_state,))]
        mean = loss.detach().clone().double()
        dist.all_reduce(mean)
        mean = mean.item() / world
        step += 1
        position += 1
        losses.append(mean)
        if rank == 0 and (args.json or step % args.log_every == 0 or step == end):
            if args.json:
                print(json.dumps({"event": "step", "step": step, "epoch": epoch, "loss": mean, "gradNorm": norm.item(), "lr": lr}), flush=True)
            else:
                print(f"step {step:5d}  epoch {epoch}  loss {mean:.4f}  lr {lr:.3g}  ({world} processes)", flush=True)
        if position >= chunks:
            position = 0
            epoch += 1

    # Gather what is needed on rank 0: the optimizer state and the carried states of every stream.
    flat_states = {}
    for ours, theirs in names.items():
        if all(theirs in optimizer.state[p] for p in params):
            flat_states[ours] = torch.cat([optimizer.state[p][theirs].reshape(-1) for p in params])
    gathered = []
    for s in state:
        parts = [torch.empty_like(s) for _ in range(world)]
        dist.all_gather(parts, s.contiguous())
        gathered.append(torch.cat(parts, dim=1))  # (L, m, H)
    if rank == 0:
        out = dict(tensors)
        for k, v in model.state_dict().items():  # the module itself: no "module." prefix
            out[k] = v.detach().clone()
        for ours, flat in flat_states.items():
            out[f"optim.{ours}"] = flat.to(dtype)
        for name, g in zip(names_of_states, gathered):
            for k in range(L):
                out[f"{key}.l{k}" if name == "h" else f"{key}.l{k}.{name}"] = g[k].t().contiguous()
        metadata = dict(meta)
        metadata["trainer"] = json.dumps({"step": step, "epoch": epoch, "position": position})
        opt_meta["step"] = opt_step + args.steps
        metadata["optimizer"] = json.dumps(opt_meta)
        if run.get("steps") is not None and run.get("schedule") != "cosine":
            run["steps"] = max(run["steps"], step)
            metadata["run"] = json.dumps(run)
        metrics = json.loads(meta.get("metrics", "{}"))
        metrics["handoff"] = {"engine": "torch.nn.parallel.DistributedDataParallel", "backend": "gloo", "processes": world,
                              "torch": torch.__version__, "fromStep": trainer["step"], "toStep": step,
                              "firstLoss": losses[0] if losses else None, "lastLoss": losses[-1] if losses else None}
        metadata["metrics"] = json.dumps(metrics)
        write_safetensors(args.output, out, metadata)
        if args.json:
            print(json.dumps({"event": "done", "step": step, "epoch": epoch, "position": position, "loss": losses[-1] if losses else None,
                              "checkpoint": args.output, "processes": world}), flush=True)
        else:
            print(f"done: step {step}, checkpoint {args.output} (resume with: native-rnn train --resume {args.output} --steps N)", flush=True)
    dist.barrier()
    dist.destroy_process_group()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--data")
    p.add_argument("--nprocs", type=int, default=2)
    p.add_argument("--init-method")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.steps < 1:
        p.error("--steps must be a positive integer")
    assert sys.byteorder == "little", "torch.frombuffer reads native byte order"
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:  # torchrun
        worker(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), args, None)
        return
    check_world(load_run(args)[3], args.nprocs)  # refuse here, once, before any process starts
    init_method = args.init_method or f"tcp://127.0.0.1:{free_port()}"
    if "127.0.0.1" in init_method or "localhost" in init_method:
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # gloo's own sockets on loopback too
    torch.multiprocessing.spawn(worker, args=(args.nprocs, args, init_method), nprocs=args.nprocs, join=True)


if __name__ == "__main__":
    main()
