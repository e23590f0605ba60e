"""Server start-up: time from `ragstore serve` to a healthy /healthz, first start (fresh data dir) and later ones.

    .venv/bin/python bench/startup.py [--runs 3]

Prints a table and writes bench/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PORT = 8765


def start_once(data_dir: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGSTORE_")}
    began = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "ragstore", "serve", "--port", str(PORT), "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - began
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("the server exited before it was healthy") from None
                time.sleep(0.05)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    first, later = [], []
    for _ in range(args.runs):
        data_dir = Path(tempfile.mkdtemp(prefix="ragstore-bench-"))
        try:
            first.append(start_once(data_dir))
            later.append(start_once(data_dir))
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
    results = {
        "runs": args.runs,
        "first_start_s": statistics.median(first),
        "second_start_s": statistics.median(later),
        "first_all": first,
        "second_all": later,
    }
    print(f"{'start':<8} {'median s':>9}  runs")
    print(f"{'first':<8} {results['first_start_s']:>9.2f}  " + " ".join(f"{x:.2f}" for x in first))
    print(f"{'second':<8} {results['second_start_s']:>9.2f}  " + " ".join(f"{x:.2f}" for x in later))
    out = Path(__file__).parent / "results" / "startup.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
