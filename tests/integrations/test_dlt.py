"""The dlt source loads the fake's contacts into DuckDB, then merges updates and a delete."""

from __future__ import annotations

from pathlib import Path

import dlt  # the test extra installs dlt[duckdb]: missing, this fails rather than skips
import duckdb
import pytest
from mirror_support import shift_between_pages

from inro_async.governor._base import Quota
from inro_async.integrations.dlt import inro
from inro_async.testing import FakeInro
from inro_async.testing.churn import delete_contact, update_contact
from inro_async.testing.thread import serve_in_thread

FAST = {"quotas": (Quota(100_000, 1),)}


def loaded(database: Path) -> dict[int, tuple[str | None, str | None]]:
    with duckdb.connect(str(database), read_only=True) as db:
        rows = db.execute("SELECT id, notes, email FROM inro.contacts").fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def test_contacts_load_into_duckdb_then_merge_updates_and_a_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    fake = FakeInro()
    org = fake.add_organization("t", contacts=20_000)
    database = tmp_path / "crm.duckdb"
    with serve_in_thread(fake):
        pipeline = dlt.pipeline(
            "inro_test",
            destination=dlt.destinations.duckdb(str(database)),
            dataset_name="inro",
            pipelines_dir=str(tmp_path / "pipelines"),
        )
        source = {"token": "t", "base_url": fake.base_url, "client_options": FAST}
        pipeline.run(inro(**source))
        assert loaded(database) == {
            cid: (c["notes"], c["email"]) for cid, c in org.contacts.items()
        }
        update_contact(org, 17, notes="called back")
        update_contact(org, 19_999, email="new@example.com")
        pipeline.run(inro(**source))  # incremental: the changes since the last load
        # the two changes, and any contact in the lag window before the cursor: not a reload
        assert 2 <= pipeline.last_trace.last_normalize_info.row_counts["contacts"] < 20
        assert loaded(database)[17] == ("called back", org.contacts[17]["email"])
        delete_contact(org, 500)
        update_contact(org, 18, notes="also")
        pipeline.run(inro(**source, deletions=True))
        after = loaded(database)
        assert after == {cid: (c["notes"], c["email"]) for cid, c in org.contacts.items()}
        assert after[17] == ("called back", org.contacts[17]["email"])
        assert 500 not in after


def test_a_deletions_walk_whose_pages_shift_hard_deletes_only_contacts_that_are_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    fake = FakeInro()
    org = fake.add_organization("t", contacts=5_000)
    database = tmp_path / "crm.duckdb"
    with serve_in_thread(fake):
        pipeline = dlt.pipeline(
            "inro_shift",
            destination=dlt.destinations.duckdb(str(database)),
            dataset_name="inro",
            pipelines_dir=str(tmp_path / "pipelines"),
        )
        source = {"token": "t", "base_url": fake.base_url, "client_options": FAST}
        pipeline.run(inro(**source, deletions=True))
        shift_between_pages(org, monkeypatch, 1_000, times=3)
        pipeline.run(inro(**source, deletions=True))
        monkeypatch.undo()
        after = loaded(database)
        missing = set(org.contacts) - set(after)
        assert missing <= set(range(5_001, 5_101)), "a contact that exists was hard-deleted"
        assert fake.requests_to("contacts.get"), "the unseen were looked up"
        pipeline.run(inro(**source, deletions=True))  # a quiet walk: everything adds up
        assert loaded(database) == {
            cid: (c["notes"], c["email"]) for cid, c in org.contacts.items()
        }
