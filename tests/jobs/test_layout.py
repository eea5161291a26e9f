"""The job layer lives in queue/ but must not shadow the standard library's queue."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_queue_folder_has_no_init_file():
    assert (ROOT / "queue").is_dir()
    assert not (ROOT / "queue" / "__init__.py").exists()


def test_stdlib_queue_and_redis_pool_work_with_the_app_imported():
    # Run from the repository root, where a queue package would win on sys.path.
    code = (
        "import app, queue, jobqueue.jobs, redis\n"
        "assert queue.Empty is not None and queue.Queue is not None, queue\n"
        "assert queue.__file__.startswith(__import__('sysconfig').get_paths()['stdlib']), queue.__file__\n"
        "pool = redis.BlockingConnectionPool(max_connections=2, timeout=1)\n"
        "r = redis.Redis(connection_pool=pool)\n"
        "try:\n    r.ping()\nexcept redis.exceptions.ConnectionError:\n    pass\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_blocking_pool_against_the_real_redis(redis_url):
    import redis

    pool = redis.BlockingConnectionPool.from_url(redis_url, max_connections=1, timeout=2)
    conn = redis.Redis(connection_pool=pool)
    assert conn.ping()
    pool.disconnect()


def test_every_package_is_in_the_distribution():
    """pyproject.toml lists the packages by hand (jobqueue is mapped from queue/): a new package left
    out of it would work in the editable checkout and be missing from any real install."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts)
             for top in ("builder", "engine") for init in (ROOT / top).rglob("__init__.py")}
    assert found | {"jobqueue"} == listed
