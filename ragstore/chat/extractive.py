"""An answer without a language model: the passages' sentences nearest to the question, each with its citation."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ragstore.ingest.embed import Embedder
from ragstore.models import Passage

NO_ANSWER = "The knowledge base has nothing on this question."
MODEL = "extractive"
# Sentences are drawn from the best passages only, and few of them are embedded: an answer costs one small batch.
MAX_PASSAGES = 3
MAX_CANDIDATES = 32
MAX_SENTENCES = 3
# Sentences much less similar to the question than the best one are left out.
RELATIVE_FLOOR = 0.75

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_MARKUP = re.compile(r"^[#>*\-\s]+")


def answer(embedder: Embedder, question: str, passages: Sequence[Passage]) -> str:
    """Up to three sentences of the best passages, most similar to the question first, each cited as [n]."""
    candidates = [
        (number, sentence)
        for number, passage in enumerate(passages[:MAX_PASSAGES], 1)
        for sentence in sentences(passage.excerpt)
    ][:MAX_CANDIDATES]
    if not candidates:
        return NO_ANSWER
    vectors = embedder.embed([question, *(sentence for _, sentence in candidates)])
    similarity = vectors[1:] @ vectors[0]
    best = float(similarity.max())
    ranked = np.argsort(-similarity, kind="stable")[:MAX_SENTENCES]
    chosen = [i for i in ranked if similarity[i] >= best * RELATIVE_FLOOR]
    return " ".join(f"{candidates[i][1]} [{candidates[i][0]}]" for i in chosen)


def sentences(text: str) -> list[str]:
    """The text's sentences and lines, without markdown markers; fragments of fewer than three words dropped."""
    found = []
    for piece in _SENTENCE_END.split(text):
        sentence = _MARKUP.sub("", piece).strip()
        if len(sentence.split()) >= 3:
            found.append(sentence[:400])
    return found
