"""The most chunks per second this CPU could embed: the model's arithmetic against the matrix kernels' own speed.

    .venv/bin/python bench/ceiling.py [--tokens 200]

all-MiniLM-L6-v2 does a fixed amount of arithmetic per chunk (its matrix products: 6 layers of attention and
feed-forward over every token). ONNX Runtime's own fp32 and int8 (u8 x s8) matrix kernels are timed here on one
of the model's shapes, in CPU-seconds of one thread (so that other work on a shared machine changes little), and
the model's operations per chunk divided by the kernel's rate, times the CPU count, is a ceiling no recipe of this
model can pass: everything else the model does (layer norms, GELU, softmax, quantizing activations) only adds.
Prints a table; writes bench/results/ceiling.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

LAYERS, HIDDEN, INTERMEDIATE = 6, 384, 1536  # all-MiniLM-L6-v2 (its config.json)
ROWS = 4096  # tokens in one product: a batch of 32 chunks of 128 tokens, or 16 of 256


def model_operations(tokens: int) -> float:
    """Multiply-adds times 2 for one chunk of `tokens` tokens: the query, key, value and output projections
    (4 H^2 per token), the feed-forward (2 H I), and the attention's scores and weighted sum (2 n H)."""
    per_token = 4 * HIDDEN**2 + 2 * HIDDEN * INTERMEDIATE + 2 * tokens * HIDDEN
    return 2.0 * LAYERS * tokens * per_token


def kernel_rate(int8: bool, rounds: int = 5, repeats: int = 10) -> float:
    """Operations per CPU-second of one thread for a (ROWS x HIDDEN) @ (HIDDEN x INTERMEDIATE) product."""
    rng = np.random.default_rng(0)
    if int8:
        a = rng.integers(0, 255, (ROWS, HIDDEN), dtype=np.uint8)
        b = rng.integers(-127, 127, (HIDDEN, INTERMEDIATE), dtype=np.int8)
        node, kinds = helper.make_node("MatMulInteger", ["A", "B"], ["Y"]), (TensorProto.UINT8, TensorProto.INT32)
    else:
        a = rng.random((ROWS, HIDDEN), dtype=np.float32)
        b = rng.random((HIDDEN, INTERMEDIATE), dtype=np.float32)
        node, kinds = helper.make_node("MatMul", ["A", "B"], ["Y"]), (TensorProto.FLOAT, TensorProto.FLOAT)
    graph = helper.make_graph(
        [node],
        "product",
        [helper.make_tensor_value_info("A", kinds[0], [ROWS, HIDDEN])],
        [helper.make_tensor_value_info("Y", kinds[1], [ROWS, INTERMEDIATE])],
        [numpy_helper.from_array(b, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    session.run(None, {"A": a})
    rates = []
    for _ in range(rounds):
        began = time.process_time()
        for _ in range(repeats):
            session.run(None, {"A": a})
        rates.append(2.0 * ROWS * HIDDEN * INTERMEDIATE * repeats / (time.process_time() - began))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200)
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    per_chunk = model_operations(args.tokens)
    rows = []
    for name, int8 in (("fp32", False), ("int8", True)):
        rate = kernel_rate(int8)
        rows.append({"kernel": name, "gops_per_cpu_s": rate / 1e9, "ceiling_chunks_per_s": cpus * rate / per_chunk})
    print(f"{args.tokens}-token chunk: {per_chunk / 1e9:.2f} G operations in the model's matrix products")
    print(f"{'kernel':<6} {'G ops per CPU-s':>16} {f'ceiling on {cpus} CPUs':>20}")
    for r in rows:
        print(f"{r['kernel']:<6} {r['gops_per_cpu_s']:>16.1f} {r['ceiling_chunks_per_s']:>14.1f} chunks/s")
    flags = Path("/proc/cpuinfo").read_text().split("flags", 1)[-1].split("\n", 1)[0].split()
    machine = {
        "cpus": cpus,
        "avx512_vnni": "avx512_vnni" in flags,
        "avx2": "avx2" in flags,
        "load": os.getloadavg(),
    }
    vector = "AVX-512 VNNI" if machine["avx512_vnni"] else "AVX2" if machine["avx2"] else "neither AVX2 nor AVX-512"
    print(f"machine: {cpus} CPUs with {vector}, load {machine['load'][0]:.1f}")
    out = Path(__file__).parent / "results" / "ceiling.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"tokens": args.tokens, "rows": rows, "machine": machine}, indent=2) + "\n")


if __name__ == "__main__":
    main()
