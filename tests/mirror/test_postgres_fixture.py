"""Without PostgreSQL binaries the mirror tests skip, unless CI requires them: then they fail."""

from __future__ import annotations

import postgres_server
import pytest
from _pytest.outcomes import Failed, Skipped


@pytest.fixture
def no_binaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(postgres_server.glob, "glob", lambda pattern: [])


@pytest.mark.usefixtures("no_binaries")
def test_missing_binaries_fail_when_postgres_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INRO_REQUIRE_POSTGRES", "1")
    with (
        pytest.raises(Failed, match="INRO_REQUIRE_POSTGRES is set"),
        postgres_server.postgres_server(),
    ):
        pass


@pytest.mark.usefixtures("no_binaries")
def test_missing_binaries_skip_on_a_developer_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INRO_REQUIRE_POSTGRES", raising=False)
    with pytest.raises(Skipped), postgres_server.postgres_server():
        pass


def test_debian_binaries_are_found_off_path(monkeypatch: pytest.MonkeyPatch) -> None:
    if not postgres_server.glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        pytest.skip("no Debian postgresql package here")
    monkeypatch.setattr(postgres_server.shutil, "which", lambda name: None)
    found = postgres_server._binaries()
    assert found is not None
    assert found[0].startswith("/usr/lib/postgresql/")
