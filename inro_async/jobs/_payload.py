"""Stable fingerprints of job payloads, so a rerun can tell "same job" from "other job"."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["payload_fingerprint"]


def _stable(value: Any) -> Any:
    """A JSON-able stand-in: content hashes for bytes and files, sorted mappings."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return {"sha256": hashlib.sha256(bytes(value)).hexdigest()}
    if isinstance(value, os.PathLike):
        path = Path(value)
        digest = hashlib.sha256()
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        return {"file_sha256": digest.hexdigest()}
    if isinstance(value, Mapping):
        return {str(k): _stable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    if isinstance(value, msgspec.Struct):
        return _stable(msgspec.to_builtins(value))
    # Anything else (an open file…): its type and repr is the best stable description we have.
    return {"type": type(value).__qualname__, "repr": repr(value)}


def payload_fingerprint(kind: str, payload: Mapping[str, Any]) -> str:
    """A hash of what a job does to each item; equal payloads give equal fingerprints."""
    encoded = msgspec.json.encode({"kind": kind, "payload": _stable(payload)})
    return hashlib.sha256(encoded).hexdigest()[:32]
