#!/usr/bin/python3
"""The "out-of-the-box" anchor for Vivace.Bench: all-MiniLM-L6-v2 (BERT encoder + mean pooling + L2 normalize)
written with plain torch.nn modules and run with Debian 12's python3-torch exactly as installed: default thread
settings, float32, eval mode, torch.no_grad, no torch.compile / jit / quantization.

Weights: the real ones from the all-MiniLM-L6-v2 model.onnx (needs python3-onnx) when found, else random weights of
the same shapes (the timing is the same; the JSON says which).

  /usr/bin/python3 bench/anchor/minilm_torch.py --shapes 1x16,1x128,8x128,32x128 --budget-seconds 30 --json
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
from torch import nn

VOCAB, HIDDEN, LAYERS, HEADS, FFN, MAX_POS, TYPES, EPS = 30522, 384, 6, 12, 1536, 512, 2, 1e-12


class Embeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, HIDDEN)
        self.position_embeddings = nn.Embedding(MAX_POS, HIDDEN)
        self.token_type_embeddings = nn.Embedding(TYPES, HIDDEN)
        self.LayerNorm = nn.LayerNorm(HIDDEN, eps=EPS)

    def forward(self, ids, types):
        pos = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(pos) + self.token_type_embeddings(types))


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, HIDDEN)
        self.attn_out, self.attn_norm = nn.Linear(HIDDEN, HIDDEN), nn.LayerNorm(HIDDEN, eps=EPS)
        self.intermediate, self.act = nn.Linear(HIDDEN, FFN), nn.GELU()  # exact erf GELU
        self.output, self.out_norm = nn.Linear(FFN, HIDDEN), nn.LayerNorm(HIDDEN, eps=EPS)

    def forward(self, x, mask_bias):
        b, s, _ = x.shape
        d = HIDDEN // HEADS
        split = lambda t: t.view(b, s, HEADS, d).transpose(1, 2)  # [b, heads, s, d]
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + mask_bias
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, s, HIDDEN)
        x = self.attn_norm(x + self.attn_out(ctx))
        return self.out_norm(x + self.output(self.act(self.intermediate(x))))


class MiniLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = Embeddings()
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))

    def forward(self, ids, mask, types):
        x = self.embeddings(ids, types)
        maskf = mask.to(x.dtype)
        mask_bias = (1.0 - maskf)[:, None, None, :] * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, mask_bias)
        # sentence-transformers pooling: mean over the attention mask, then L2 normalize
        pooled = (x * maskf.unsqueeze(-1)).sum(1) / maskf.sum(1, keepdim=True).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)


# HF parameter name -> (module path in MiniLM, transposed-in-onnx handled at load)
def hf_to_ours(name):
    name = name[len("bert."):] if name.startswith("bert.") else name
    if name.startswith("embeddings."):
        return name
    if not name.startswith("encoder.layer."):
        return None
    rest = name[len("encoder.layer."):]
    i, sub = rest.split(".", 1)
    table = {
        "attention.self.query": "query", "attention.self.key": "key", "attention.self.value": "value",
        "attention.output.dense": "attn_out", "attention.output.LayerNorm": "attn_norm",
        "intermediate.dense": "intermediate", "output.dense": "output", "output.LayerNorm": "out_norm",
    }
    mod, param = sub.rsplit(".", 1)
    return f"layers.{i}.{table[mod]}.{param}" if mod in table else None


def find_onnx():
    roots = []
    if os.environ.get("VIVACE_CACHE_DIR"):
        roots.append(os.environ["VIVACE_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    roots.append(os.path.join(xdg, "vivace") if xdg and os.path.isabs(xdg) else os.path.expanduser("~/.cache/vivace"))
    for root in roots:
        p = os.path.join(root, "models", "sentence-transformers", "all-MiniLM-L6-v2", "onnx", "model.onnx")
        if os.path.isfile(p):
            return p
    return None


def load_onnx_weights(model, path):
    """Recovers HF names the way Vivace's OnnxWeightNaming does: named initializers keep their names; a Linear
    exported as MatMul(x, W) -> Add(., X.bias) gives X.weight = W^T."""
    import onnx
    from onnx import numpy_helper
    g = onnx.load(path).graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    named = {}
    for n in g.node:
        if n.op_type != "MatMul" or len(n.input) != 2 or n.input[1] not in inits or inits[n.input[1]].ndim != 2:
            continue
        for add in consumers.get(n.output[0], []):
            if add.op_type != "Add":
                continue
            other = add.input[1] if add.input[0] == n.output[0] else add.input[0]
            if other.endswith(".bias") and other in inits:
                named[other[:-5] + ".weight"] = inits[n.input[1]].T
                break
    for k, v in inits.items():
        if "." in k and v.dtype.kind == "f":
            named.setdefault(k, v)
    state = {}
    for k, v in named.items():
        ours = hf_to_ours(k)
        if ours is not None:
            state[ours] = torch.from_numpy(v.copy()).float()
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing:
        raise RuntimeError(f"weights missing from {path}: {missing}")


def blas():
    """Which libblas.so.3 the Debian alternatives system gives torch (BLAS_INFO=generic): reference BLAS unless
    e.g. libopenblas0 is installed."""
    link = "/usr/lib/x86_64-linux-gnu/libblas.so.3"
    return os.path.realpath(link) if os.path.exists(link) else "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="1x16,1x128,8x128,32x128")
    ap.add_argument("--budget-seconds", type=float, default=30.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--random-weights", action="store_true")
    args = ap.parse_args()

    torch.manual_seed(1234)
    model = MiniLM().eval()
    weights = "random"
    path = None if args.random_weights else find_onnx()
    if path:
        try:
            load_onnx_weights(model, path)
            weights = "onnx"
        except Exception as e:  # onnx not installed, unexpected graph: random weights time the same
            print(f"minilm_torch: random weights ({e})", file=sys.stderr)

    results = []
    gen = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for shape in args.shapes.split(","):
            batch, seq = (int(x) for x in shape.lower().split("x"))
            ids = torch.randint(1000, VOCAB, (batch, seq), generator=gen, dtype=torch.long)
            ids[:, 0], ids[:, -1] = 101, 102  # [CLS] ... [SEP]
            mask = torch.ones(batch, seq, dtype=torch.long)
            types = torch.zeros(batch, seq, dtype=torch.long)
            for _ in range(2):
                model(ids, mask, types)
            times = []
            start = time.perf_counter()
            # at least 3 timed runs: at 32x128 one run of the reference-BLAS build can take about a minute
            while len(times) < 3 or (time.perf_counter() - start < args.budget_seconds and len(times) < 2000):
                t0 = time.perf_counter()
                model(ids, mask, types)
                times.append((time.perf_counter() - t0) * 1000.0)
            results.append({"batch": batch, "seq": seq, "median_ms": statistics.median(times), "runs": len(times)})
            if not args.json:
                print(f"{batch}x{seq}: {results[-1]['median_ms']:.3f} ms (median of {len(times)})")

    report = {"torch": torch.__version__, "threads": torch.get_num_threads(), "weights": weights, "blas": blas(),
              "results": results}
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
