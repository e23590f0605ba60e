"""p50 of an answer without a model: POST /v1/responses (file_search, extractive) over 3 small files, through the SDK.

Usage: python bench/answers.py [base_url] [requests]   (a running `ragstore serve`, no RAGSTORE_LLM_BASE_URL)
Prints the figures and writes them to bench/results/answers.json.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import time
from pathlib import Path

from openai import OpenAI

FILES = {
    "coffee.txt": "The office coffee machine is descaled every Friday afternoon by the facilities team.",
    "account.md": "# Account\n\nTo reset your password, open the login page and follow the link sent by email.",
    "parking.txt": "Staff may park in the garage on level B2. Visitors use the street spaces in front.",
}
QUESTIONS = ["who cleans the coffee machine?", "how do I reset my password?", "where can staff park?"]


def main(base_url: str = "http://127.0.0.1:8000/v1", count: int = 60) -> dict[str, float]:
    client = OpenAI(base_url=base_url, api_key="unused", max_retries=0)
    store = client.vector_stores.create(name="bench-answers")
    ids = [client.files.create(file=(n, io.BytesIO(t.encode())), purpose="assistants").id for n, t in FILES.items()]
    client.vector_stores.file_batches.create_and_poll(vector_store_id=store.id, file_ids=ids)
    tools = [{"type": "file_search", "vector_store_ids": [store.id]}]
    client.responses.create(model="any", input=QUESTIONS[0], tools=tools)  # warm-up
    took = []
    for n in range(count):
        started = time.perf_counter()
        client.responses.create(model="any", input=QUESTIONS[n % len(QUESTIONS)], tools=tools)
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    figures = {
        "requests": count,
        "p50_ms": round(statistics.median(took), 1),
        "p90_ms": round(took[int(0.9 * (count - 1))], 1),
    }
    print(json.dumps(figures))
    out = Path(__file__).parent / "results" / "answers.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    client.vector_stores.delete(store.id)
    return figures


if __name__ == "__main__":
    main(*(sys.argv[1:2] or []), *(int(a) for a in sys.argv[2:3]))
