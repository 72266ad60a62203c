"""Common command-line mistakes get a one-line answer that says what to do (issue 15 #11).

A missing output directory is refused, as ``cp`` does, instead of created.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli._helpers import Invoke
from inro_async.testing import FakeInro


@pytest.mark.parametrize("missing", ["nonexistent/dir", "nonexistent"])
def test_export_to_a_directory_that_does_not_exist_is_refused_in_one_line(
    invoke: Invoke, fake: FakeInro, tmp_path: Path, missing: str
) -> None:
    out = tmp_path / missing / "x.csv"
    result = invoke("contacts", "export", "--out", str(out))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot write {out}: no such directory {out.parent} (create it first)"
    ]
    assert not (tmp_path / "nonexistent").exists()  # nothing created
    assert fake.requests == []  # and nothing asked of the API


def test_export_into_a_file_as_if_it_were_a_directory_is_refused(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    out = tmp_path / "notes.txt" / "x.csv"
    result = invoke("contacts", "export", "--out", str(out))
    assert result.exit_code == 2
    assert f"cannot write {out}: {out.parent} is not a directory" in result.stderr
    assert fake.requests == []


def test_export_into_an_existing_directory_still_writes_there(
    invoke: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    result = invoke("--json", "contacts", "export", "--out", str(tmp_path / "out" / "c.jsonl"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["contacts"] == 2_500
