from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    path = SHARED / "seeds"
    if not path.is_dir():
        pytest.skip(f"shared corpus not found at {path}")
    return path


@pytest.fixture(scope="session")
def gov_dir() -> Path:
    path = SHARED / "gov_reports"
    if not path.is_dir():
        pytest.skip(f"shared corpus not found at {path}")
    return path


@pytest.fixture
def redis_url():
    redis = pytest.importorskip("redis", reason="the Redis index needs: pip install 'dupspeech[index-redis]'")
    where = os.environ.get("DUPSPEECH_TEST_REDIS", "127.0.0.1:6390")
    host, _, port = where.rpartition(":")
    client = redis.Redis(host=host or "127.0.0.1", port=int(port), socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError:
        pytest.skip(f"no redis-server at {where} (.ci/run starts one: redis-server --port 6390 --bind 127.0.0.1;"
                    " DUPSPEECH_TEST_REDIS=host:port points elsewhere)")
    name = f"dupspeech-test-{uuid.uuid4().hex[:10]}"
    yield f"redis://{host or '127.0.0.1'}:{port}/0?name={name}"
    keys = list(client.scan_iter(match=f"{name}*".encode()))
    if keys:
        client.delete(*keys)
    client.close()
