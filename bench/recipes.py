"""The int8 model's recipes and session settings side by side: texts per CPU-second on ~200-token chunks.

    .venv/bin/python bench/recipes.py [--rounds 5] [--variants current,b64,...] [--models /tmp/ragstore-recipes]

The chunks are those bench/ingest.py makes (msmarco passages joined into ~200-token chunks). Each variant is a
model file (made once into --models) with a way of running it (batch size, threads, sessions); the variants run in
turn, round after round, in this one process, and each round's rate is texts over the process's CPU-seconds
(ONNX Runtime's threads included) of the embedding calls. Prints medians and the ratio to `current`; writes
bench/results/recipes.json with the machine's CPU count and load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import CHUNK, documents  # noqa: E402
from ragstore.ingest import onnx as recipe  # noqa: E402
from ragstore.ingest import parse  # noqa: E402
from ragstore.ingest.embed import default_chunker, local_model_path  # noqa: E402


def calibration_texts() -> list[str]:
    """Texts for static activation ranges, none from ../shared/data: the model package's own README in ~200-token
    windows, and word sequences drawn from the tokenizer's vocabulary (fixed seed) of 16 to 250 pieces."""
    chunker = default_chunker()
    readme = (local_model_path() / "README.md").read_text(encoding="utf-8")
    texts = chunker.split(readme, 200)
    words = [w for w in (local_model_path() / "vocab.txt").read_text(encoding="utf-8").split("\n") if w.isalpha()]
    rng = np.random.default_rng(24)
    for length in np.linspace(16, 250, 24).astype(int):
        texts.append(" ".join(rng.choice(words, length)))
    return texts


def build(name: str, models: Path) -> Path:
    """The model file of a recipe, made once."""
    target = models / f"{name}.onnx"
    if target.exists():
        return target
    models.mkdir(parents=True, exist_ok=True)
    fp32, fused, unfused = models / "fp32.onnx", models / "fused.onnx", models / "unfused.onnx"
    if not fp32.exists():
        recipe.export(local_model_path(), fp32)
    if not fused.exists():
        recipe.fuse(fp32, fused)
    if name == "r2":
        recipe.quantize_weights(fused, target)
    elif name in ("plain-ln", "plain-ln-attn", "plain-ln-scores"):
        plain = models / f"{name}.fp32.onnx"
        recipe.fuse(fp32, plain, attention=name == "plain-ln", skip_norm=False)
        extra = {"MatMulConstBOnly": False} if name == "plain-ln-scores" else {}
        ops = ["MatMul", "Attention"] if name == "plain-ln" else ["MatMul"]
        _dynamic(plain, target, ops, extra)
    elif name == "fast-gelu":
        recipe.fuse(fp32, models / "fast-gelu.fp32.onnx", gelu_approximation=True)
        recipe.quantize_weights(models / "fast-gelu.fp32.onnx", target)
    elif name == "int8-scores":
        if not unfused.exists():
            recipe.fuse(fp32, unfused, attention=False)
        _dynamic(unfused, target, ["MatMul"], {"MatMulConstBOnly": False})
    elif name in ("static-qdq", "static-qop"):
        from onnxruntime.quantization.shape_inference import quant_pre_process

        # The fused ops are ONNX Runtime's own: their outputs' types come from its symbolic shape inference only,
        # without which the quantizer leaves the activations in float.
        shaped = models / "fused.shaped.onnx"
        if not shaped.exists():
            quant_pre_process(str(fused), str(shaped), skip_optimization=True)
        _static(shaped, models / f"{name}.tmp.onnx", qdq=name == "static-qdq")
        _dynamic(models / f"{name}.tmp.onnx", target, ["Attention"], {})
    else:
        raise SystemExit(f"no recipe {name}")
    return target


def _dynamic(source: Path, target: Path, ops: list[str], extra: dict) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=ops,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT, **extra},
    )


def _static(source: Path, target: Path, qdq: bool) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(local_model_path() / "tokenizer.json"))
    tokenizer.enable_truncation(recipe.MAX_LENGTH)
    tokenizer.enable_padding()
    texts = sorted(calibration_texts(), key=len)
    feeds = [_feed(tokenizer, texts[i : i + 8]) for i in range(0, len(texts), 8)]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.left = iter(feeds)

        def get_next(self) -> dict | None:
            return next(self.left, None)

    quantize_static(
        str(source),
        str(target),
        Reader(),
        quant_format=QuantFormat.QDQ if qdq else QuantFormat.QOperator,
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )


def _feed(tokenizer, texts: Sequence[str]) -> dict[str, np.ndarray]:  # noqa: ANN001
    encoded = tokenizer.encode_batch(list(texts))
    ids = np.array([e.ids for e in encoded], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


@dataclass
class Variant:
    """A model file and how it is run."""

    name: str
    model: str = "r2"
    batch: int = 32
    threads: int = 2
    sessions: int = 1
    options: dict[str, str] = field(default_factory=lambda: {"session.intra_op.allow_spinning": "0"})
    level: str = "all"
    disabled: tuple[str, ...] = ()


VARIANTS = {
    "current": Variant("current"),
    "b16": Variant("b16", batch=16),
    "b64": Variant("b64", batch=64),
    "b128": Variant("b128", batch=128),
    "spinning": Variant("spinning", options={}),
    "daz": Variant("daz", options={"session.intra_op.allow_spinning": "0", "session.set_denormal_as_zero": "1"}),
    "fast-gelu": Variant("fast-gelu", model="fast-gelu"),
    # ONNX Runtime's own SkipLayerNormFusion would make them one SkipLayerNormalization again at load time.
    "plain-ln": Variant("plain-ln", model="plain-ln", disabled=("SkipLayerNormFusion",)),
    "plain-ln-attn": Variant("plain-ln-attn", model="plain-ln-attn", disabled=("SkipLayerNormFusion",)),
    "plain-ln-scores": Variant("plain-ln-scores", model="plain-ln-scores", disabled=("SkipLayerNormFusion",)),
    "plain-ln-2x1": Variant("plain-ln-2x1", model="plain-ln", threads=1, sessions=2, disabled=("SkipLayerNormFusion",)),
    "basic-level": Variant("basic-level", level="basic"),
    "no-arena": Variant("no-arena", options={"session.intra_op.allow_spinning": "0", "arena": "off"}),
    "2x1-b32": Variant("2x1-b32", threads=1, sessions=2),
    "2x1-b64": Variant("2x1-b64", threads=1, sessions=2, batch=64),
    "2x1-b8": Variant("2x1-b8", threads=1, sessions=2, batch=8),
    "int8-scores": Variant("int8-scores", model="int8-scores"),
    "static-qdq": Variant("static-qdq", model="static-qdq"),
    "static-qop": Variant("static-qop", model="static-qop"),
}


class Runner:
    """Embeds texts as OnnxEmbedder does (sorted by length, batched), with a variant's sessions and threads."""

    def __init__(self, variant: Variant, path: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.variant = variant
        self.tokenizer = Tokenizer.from_file(str(local_model_path() / "tokenizer.json"))
        self.tokenizer.enable_truncation(recipe.MAX_LENGTH)
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = variant.threads
        levels = {"all": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL}
        levels["basic"] = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.graph_optimization_level = levels[variant.level]
        for key, value in variant.options.items():
            if key == "arena":
                options.enable_cpu_mem_arena = False
            else:
                options.add_session_config_entry(key, value)
        self.sessions = [
            onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"], disabled_optimizers=list(variant.disabled)
            )
            for _ in range(variant.sessions)
        ]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), recipe.HIDDEN), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = [order[s : s + self.variant.batch] for s in range(0, len(order), self.variant.batch)]
        lock = threading.Lock()

        def work(session) -> None:  # noqa: ANN001
            while True:
                with lock:
                    if not batches:
                        return
                    batch = batches.pop()
                vectors[batch] = session.run(None, _feed(self.tokenizer, [texts[i] for i in batch]))[0]

        if len(self.sessions) == 1:
            work(self.sessions[0])
        else:
            threads = [threading.Thread(target=work, args=(s,)) for s in self.sessions]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        return vectors


def chunk_texts(files: int, per_file: int) -> list[str]:
    chunker = default_chunker()
    texts = []
    for name, data in documents(files, per_file, chunker):
        texts.extend(c.text for c in chunker.chunk(parse.parse(name, data), CHUNK))
    return texts


def timed(embed: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str]) -> tuple[float, float, np.ndarray]:
    began, cpu = time.perf_counter(), time.process_time()
    vectors = embed(texts)
    return time.process_time() - cpu, time.perf_counter() - began, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--variants", default="current,b64,2x1-b32,int8-scores,static-qdq")
    parser.add_argument("--models", type=Path, default=Path("/tmp/ragstore-recipes"))
    args = parser.parse_args()
    texts = chunk_texts(args.files, 8)
    tokens = statistics.mean(default_chunker().count(t) for t in texts)
    chosen = [VARIANTS[name] for name in args.variants.split(",")]
    runners = {v.name: Runner(v, build(v.model, args.models)) for v in chosen}
    reference = runners[chosen[0].name].embed(texts)
    load_before = os.getloadavg()
    cpu: dict[str, list[float]] = {name: [] for name in runners}
    wall: dict[str, list[float]] = {name: [] for name in runners}
    cosine: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, runner in runners.items():
            seconds, elapsed, vectors = timed(runner.embed, texts)
            cpu[name].append(len(texts) / seconds)
            wall[name].append(len(texts) / elapsed)
            cosine[name] = float(np.mean(np.sum(vectors * reference, axis=1)))
    machine = {"cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg()}
    base = statistics.median(cpu[chosen[0].name])
    rows = []
    print(f"{len(texts)} chunks of {tokens:.0f} tokens (mean), {args.rounds} rounds alternating")
    print(f"{'variant':<12} {'texts/CPU-s':>12} {'ratio':>6} {'texts/s':>8} {'cosine to first':>16}")
    for name in runners:
        row = {
            "variant": name,
            "texts_per_cpu_s": statistics.median(cpu[name]),
            "texts_per_s": statistics.median(wall[name]),
        }
        row |= {"ratio": row["texts_per_cpu_s"] / base, "cosine": cosine[name], "rounds": cpu[name]}
        rows.append(row)
        print(
            f"{name:<12} {row['texts_per_cpu_s']:>12.1f} {row['ratio']:>6.2f} {row['texts_per_s']:>8.1f} "
            f"{row['cosine']:>16.4f}"
        )
    print(f"machine: {machine['cpus']} CPUs, load {load_before[0]:.1f} before, {machine['load_after'][0]:.1f} after")
    out = Path(__file__).parent / "results" / "recipes.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps({"chunks": len(texts), "mean_tokens": tokens, "rows": rows, "machine": machine}, indent=2)
    )


if __name__ == "__main__":
    main()
