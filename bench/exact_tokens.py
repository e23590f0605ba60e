"""Exact-token queries built from a corpus: the kind of question where lexical search should win and dense fails.

    .venv/bin/python bench/exact_tokens.py            # rewrites bench/data/exact-tokens/<collection>.jsonl

For each collection in ../shared/data, seeded (random.Random(19)), up to 50 queries. A query is built around a token
that occurs in exactly one document of the corpus (case-insensitive, whole word), of one of two kinds:

- a code: letters and digits mixed (A380, B12, 3M, COVID19), at least 3 characters;
- a rare name: a capitalised word of at least 5 letters, not at the start of a sentence, found nowhere else in any case.

The query is that token followed by the two longest other words (4+ letters) of its sentence, in their order there
(e.g. "A380 superjumbo airline"): a few words a user might type, where only the token singles the document out.
The document holding the token is the one relevant answer (grade 1). Each line of the output is
{"_id", "text", "token", "kind", "corpus_id"}; bench/fusion_study.py and bench/quality.py read them.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OUT = Path(__file__).parent / "data" / "exact-tokens"
SEED, PER_COLLECTION = 19, 50
WORD = re.compile(r"[A-Za-z0-9]+")
CODE = re.compile(r"^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9]{3,}$")
NAME = re.compile(r"^[A-Z][a-z]{4,}$")


def corpus(collection: str) -> list[dict]:
    lines = (DATA / collection / "corpus.jsonl").read_text(encoding="utf-8").split("\n")
    return [json.loads(line) for line in lines if line.strip()]


def build(collection: str) -> list[dict]:
    documents = corpus(collection)
    frequency: Counter[str] = Counter()
    for doc in documents:
        frequency.update({word.lower() for word in WORD.findall(doc["text"])})
    candidates = []
    for doc in documents:
        for sentence in re.split(r"(?<=[.!?])\s+", doc["text"]):
            words = WORD.findall(sentence)
            for i, word in enumerate(words):
                if frequency[word.lower()] != 1:
                    continue
                kind = "code" if CODE.match(word) else "name" if i > 0 and NAME.match(word) else None
                if kind:
                    candidates.append((doc["_id"], word, kind, words))
    rng = random.Random(SEED)
    rng.shuffle(candidates)
    queries, used = [], set()
    for doc_id, token, kind, words in candidates:
        if doc_id in used:
            continue
        others = [w for w in words if len(w) >= 4 and w.lower() != token.lower() and not w.isdigit()]
        context = sorted(sorted(others, key=len, reverse=True)[:2], key=words.index)
        if len(context) < 2:
            continue
        used.add(doc_id)
        text = " ".join([token, *context])
        queries.append(
            {"_id": f"x_{len(queries) + 1}", "text": text, "token": token, "kind": kind, "corpus_id": doc_id}
        )
        if len(queries) == PER_COLLECTION:
            break
    return queries


def load(collection: str) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """The shipped queries of a collection and their judgments, as evaluation.Dataset holds them."""
    lines = (OUT / f"{collection}.jsonl").read_text(encoding="utf-8").split("\n")
    items = [json.loads(line) for line in lines if line.strip()]
    return {q["_id"]: q["text"] for q in items}, {q["_id"]: {q["corpus_id"]: 1} for q in items}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for folder in sorted(p for p in DATA.iterdir() if (p / "corpus.jsonl").is_file()):
        queries = build(folder.name)
        body = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries)
        (OUT / f"{folder.name}.jsonl").write_text(body, encoding="utf-8")
        kinds = Counter(q["kind"] for q in queries)
        print(f"{folder.name}: {len(queries)} queries ({dict(kinds)}), e.g. {[q['text'] for q in queries[:3]]}")


if __name__ == "__main__":
    main()
