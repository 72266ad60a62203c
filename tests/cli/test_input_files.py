"""Bad input files: the whole file is checked first, so a bad line costs no request (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli._helpers import Invoke
from inro_async.testing import FakeInro

BAD_LINE = 1_234


def _csv_with_a_bad_id_on_line_1234(path: Path) -> Path:
    """Header on line 1, good ids on lines 2..1233, ``12ab`` on line 1234, more after it."""
    rows = ["id", *(str(i) for i in range(1, BAD_LINE - 1)), "12ab", "5", "6"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ("messages", "send", "--text", "Hi", "--to"),
        ("scenarios", "trigger", "1", "--to"),
        ("contacts", "update", "--from"),
    ],
    ids=["messages-send", "scenarios-trigger", "contacts-update"],
)
def test_an_invalid_identifier_on_line_1234_names_the_line_and_sends_nothing(
    invoke: Invoke, fake: FakeInro, tmp_path: Path, command: tuple[str, ...]
) -> None:
    source = _csv_with_a_bad_id_on_line_1234(tmp_path / "input.csv")
    if command[0] == "contacts":  # an update needs something to set
        lines = source.read_text(encoding="utf-8").splitlines()
        source.write_text(
            "\n".join([lines[0] + ",language", *(f"{line},fr" for line in lines[1:])]) + "\n"
        )
    result = invoke(*command, str(source))
    assert result.exit_code == 2
    assert f"{source}:{BAD_LINE}: " in result.stderr
    assert "must be an integer, got '12ab'" in result.stderr
    assert "nothing was sent" in result.stderr
    assert fake.requests == []


def test_recipients_csv_without_an_identifier_column_is_refused(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    source = tmp_path / "to.csv"
    source.write_text("name,phone\nAna,+1555\n", encoding="utf-8")
    result = invoke("messages", "send", "--to", str(source), "--text", "Hi")
    assert result.exit_code == 2
    assert f"{source}:1: the header needs an 'id', 'username' or 'email' column" in result.stderr
    assert fake.requests == []


def test_updates_csv_with_an_unknown_column_is_refused(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    source = tmp_path / "updates.csv"
    source.write_text("id,colour\n1,red\n", encoding="utf-8")
    result = invoke("contacts", "update", "--from", str(source))
    assert result.exit_code == 2
    assert f"{source}:1: unknown column(s) 'colour'" in result.stderr
    assert fake.requests == []


def test_updates_as_plain_text_are_refused(invoke: Invoke, fake: FakeInro, tmp_path: Path) -> None:
    source = tmp_path / "updates.txt"
    source.write_text("1\n2\n", encoding="utf-8")
    result = invoke("contacts", "update", "--from", str(source))
    assert result.exit_code == 2
    assert "updates must be a .csv or .jsonl file" in result.stderr
    assert fake.requests == []


def test_a_broken_json_line_is_named(invoke: Invoke, fake: FakeInro, tmp_path: Path) -> None:
    source = tmp_path / "to.jsonl"
    source.write_text('{"id": 1}\n{"username": "ana"}\n{"id": 3,\n', encoding="utf-8")
    result = invoke("messages", "send", "--to", str(source), "--text", "Hi")
    assert result.exit_code == 2
    assert f"{source}:3: not valid JSON" in result.stderr
    assert fake.requests == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("-1", "id: must be a positive integer without a sign, got -1"),
        ("+33612345678", "id: must be a positive integer without a sign, got +33612345678"),
        ("0", "id must be a positive integer, got 0"),
        ("\u00b2", "username holds only letters, digits"),  # a digit to str.isdigit, not to int
        ("\u0661\u0662", "username holds only letters, digits"),  # int() reads it as 12
    ],
    ids=["minus-one", "phone", "zero", "superscript", "arabic-indic"],
)
def test_a_line_that_is_no_plain_id_is_refused_by_the_rule_it_breaks(
    invoke: Invoke, fake: FakeInro, tmp_path: Path, line: str, problem: str
) -> None:
    source = tmp_path / "to.txt"
    source.write_text(f"ana\n{line}\n42\n", encoding="utf-8")
    for command in (("messages", "send", "--text", "Hi"), ("scenarios", "trigger", "1")):
        result = invoke(*command, "--to", str(source))
        assert result.exit_code == 2, result.output
        assert f"{source}:2: {problem}" in result.stderr
        assert "nothing was sent" in result.stderr
    assert fake.requests == []


@pytest.mark.parametrize("cell", ["-1", "\u0661\u0662", "1_000", " 7 x"])
def test_an_update_row_whose_id_is_no_plain_id_is_refused(
    invoke: Invoke, fake: FakeInro, tmp_path: Path, cell: str
) -> None:
    source = tmp_path / "updates.csv"
    source.write_text(f"id,language\n5,fr\n{cell},fr\n", encoding="utf-8")
    result = invoke("contacts", "update", "--from", str(source))
    assert result.exit_code == 2, result.output
    assert f"{source}:3: id: must be" in result.stderr
    assert fake.requests == []


def test_an_empty_recipients_file_is_refused(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    source = tmp_path / "to.txt"
    source.write_text("\n\n", encoding="utf-8")
    result = invoke("messages", "send", "--to", str(source), "--text", "Hi")
    assert result.exit_code == 2
    assert "holds no recipients" in result.stderr
    assert fake.requests == []


# -- what the CLI writes, it reads ----------------------------------------------------------


def _sent_ids(fake: FakeInro) -> list[int]:
    return sorted(i for r in fake.requests_to("messages.send") for i in r.body["contact_ids"])


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_an_export_file_is_a_recipients_file(
    invoke: Invoke, fake: FakeInro, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"contacts.{suffix}"
    assert invoke("contacts", "export", "--out", str(out)).exit_code == 0
    result = invoke("--json", "messages", "send", "--to", str(out), "--text", "Hi")
    assert result.exit_code == 0, result.output
    assert _sent_ids(fake) == list(range(1, 2_501))  # by id, each once
    assert max(fake.org.delivery_counts().values()) == 1


def test_a_row_without_an_id_falls_back_to_username_then_email(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    ana = fake.org.contacts[5]
    bo = next(c for c in fake.org.contacts.values() if c["email"] and c["id"] > 6)
    source = tmp_path / "to.csv"
    source.write_text(
        f"ID,Username,Email,Name\n4,{ana['username']},x@example.com,Four\n"
        f",{ana['username']},,Ana\n,,{bo['email']},Bo\n",
        encoding="utf-8",
    )
    result = invoke("messages", "send", "--to", str(source), "--text", "Hi")
    assert result.exit_code == 0, result.output
    [request] = fake.requests_to("messages.send")
    assert request.body["contact_ids"] == [4]
    assert request.body["contact_usernames"] == [ana["username"]]
    assert request.body["contact_emails"] == [bo["email"]]


def test_an_email_header_in_any_case_is_read(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    email = next(c["email"] for c in fake.org.contacts.values() if c["email"])
    source = tmp_path / "to.csv"
    source.write_text(f"Email\n{email}\n", encoding="utf-8")
    result = invoke("messages", "send", "--to", str(source), "--text", "Hi")
    assert result.exit_code == 0, result.output
    assert fake.requests_to("messages.send")[0].body["contact_emails"] == [email]


def test_a_row_with_no_identifier_still_names_its_line(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    source = tmp_path / "to.jsonl"
    source.write_text('{"id": 1, "name": "Ana"}\n{"id": null, "name": "Bo"}\n', encoding="utf-8")
    result = invoke("messages", "send", "--to", str(source), "--text", "Hi")
    assert result.exit_code == 2
    assert f"{source}:2: " in result.stderr
    assert "names no contact" in result.stderr
    assert fake.requests == []


def test_update_headers_are_case_insensitive_but_unknown_columns_still_refused(
    invoke: Invoke, fake: FakeInro, tmp_path: Path
) -> None:
    source = tmp_path / "updates.csv"
    source.write_text("ID,Language\n1,fr\n", encoding="utf-8")
    assert invoke("contacts", "update", "--from", str(source)).exit_code == 0
    assert fake.org.contacts[1]["language"] == "fr"
    source.write_text("ID,Language,Name\n1,fr,Ana\n", encoding="utf-8")
    result = invoke("contacts", "update", "--from", str(source))
    assert result.exit_code == 2
    assert "unknown column(s) 'Name'" in result.stderr
