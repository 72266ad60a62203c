"""``from inro_async.governor import RedisGovernor``: imported on first use, and without the
``redis`` package a clear error naming the ``[redis]`` extra. Each case in a fresh interpreter,
since the question is what an import does."""

from __future__ import annotations

import os
import subprocess
import sys


def _python(code: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, timeout=60, env=environment, check=False,
    )  # fmt: skip


def test_importing_the_sdk_imports_neither_redis_nor_the_redis_governor() -> None:
    done = _python(
        "import sys, inro_async, inro_async.governor\n"
        "print('redis' in sys.modules, 'inro_async.governor.redis' in sys.modules)"
    )
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_redis_governor_is_importable_from_the_governor_package() -> None:
    done = _python(
        "from inro_async.governor import RedisGovernor\n"
        "from inro_async.governor.redis import RedisGovernor as Same\n"
        "print(RedisGovernor is Same, RedisGovernor('redis://127.0.0.1:1', key='k').key)"
    )
    assert done.stdout.split() == ["True", "k"], done.stderr


def test_without_the_redis_package_the_error_names_the_extra() -> None:
    done = _python(
        "import sys\n"
        "sys.modules['redis'] = None  # as if it were not installed\n"
        "from inro_async import InroError\n"
        "from inro_async.governor import RedisGovernor\n"
        "try:\n"
        "    RedisGovernor('redis://127.0.0.1:6379', key='acme')\n"
        "except ImportError as error:\n"
        "    print(isinstance(error, InroError), error.name, '|', error)\n"
    )
    assert done.stdout.strip() == (
        "True redis | RedisGovernor needs the 'redis' package, which is not installed: "
        "pip install 'inro-async[redis]'"
    ), done.stderr
