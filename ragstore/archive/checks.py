"""The outcome of one verify check."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # pass, fail or skip
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == "fail"
