"""Connecting to the viewer's Redis (one node, Sentinel or Cluster, by the URL's scheme)
and running the Lua scripts of `lua/`.

`IRIS_REDIS_URL` forms:

    redis://[:password@]host:port/db                 one node
    rediss://…                                        the same over TLS
    redis+sentinel://[:password@]host:port[,host:port…]/service[/db]
                                                      the master Sentinel names `service`
    redis+cluster://[:password@]host:port[,host:port…][/0]
                                                      Redis Cluster; every node a seed
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import NoScriptError

LUA = Path(__file__).parent / "lua"
TIMEOUTS: dict[str, Any] = {"socket_timeout": 2, "socket_connect_timeout": 2}


@dataclass(frozen=True)
class Script:
    """A Lua script of `lua/`, run by its SHA1 and sent whole only when a node lacks it."""

    name: str
    text: str

    @classmethod
    def load(cls, name: str, with_lib: bool = True, prelude: str = "") -> Script:
        """`lua/<name>.lua`, after `prelude` (generated Lua) and `lua/lib.lua`."""
        body = (LUA / f"{name}.lua").read_text()
        lib = (LUA / "lib.lua").read_text() + "\n" if with_lib else ""
        return cls(name, prelude + lib + body)

    @property
    def sha(self) -> str:
        return hashlib.sha1(self.text.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, client: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.eval(self.text, len(keys), *keys, *args)


def _hosts(part: str) -> list[tuple[str, int]]:
    found = []
    for item in part.split(","):
        host, _, port = item.rpartition(":")
        found.append((host or "127.0.0.1", int(port or 6379)))
    return found


def _split(url: str, scheme: str) -> tuple[str | None, list[tuple[str, int]], list[str]]:
    """Password, hosts and path segments of a `scheme://[:password@]h:p[,h:p]/a/b` URL."""
    rest = url[len(scheme) :]
    auth, _, rest = rest.rpartition("@")
    password = unquote(auth.partition(":")[2]) or None if auth else None
    hosts, _, path = rest.partition("/")
    return password, _hosts(hosts), [p for p in path.split("/") if p]


def connect(url: str) -> tuple[Any, bool]:
    """A redis-py asyncio client for `url`, and whether it is a Redis Cluster."""
    if url.startswith("redis+cluster://"):
        password, hosts, _path = _split(url, "redis+cluster://")
        nodes = [ClusterNode(h, p) for h, p in hosts]
        return RedisCluster(startup_nodes=nodes, password=password, **TIMEOUTS), True
    if url.startswith("redis+sentinel://"):
        password, hosts, path = _split(url, "redis+sentinel://")
        if not path:
            raise ValueError("redis+sentinel:// needs the service name: …/service[/db]")
        sentinel = Sentinel(hosts, sentinel_kwargs=dict(TIMEOUTS), **TIMEOUTS)
        db = int(path[1]) if len(path) > 1 else 0
        return sentinel.master_for(path[0], db=db, password=password), False
    return aioredis.from_url(url, **TIMEOUTS), False
