"""How a support network's software (DIPLOM and the like) works with IRIS over HTTP.

Copy the parts you need; it uses the Python standard library only. Your network's client
id and secret come from the IRIS operator (`iris clients add --support-network NETWORK`,
shown once); keep them on your server. With them the software:

- lists the support requests (*ondersteuningsvragen*) schools sent to the network,
  the question included (`GET /v1/support-networks/{network}/support-requests`);
- accepts one, naming the support workers who will help (`POST …/{id}/accept`), or
  declines it with a reason (`POST …/{id}/decline`); accepting files one access request
  per worker at the school, which the school's responsible approves or rejects;
- follows such an access request until the school decides (`GET /v1/access-requests/{id}`).

    export IRIS_CLIENT_ID=… IRIS_CLIENT_SECRET=…
    python examples/support_network.py --network ondersteuningsnetwerk-antwerpen list
    python examples/support_network.py --network … accept SUPPORT_REQUEST_ID --worker INSZ
    python examples/support_network.py --network … follow ACCESS_REQUEST_ID

Its token names the network and is good for nothing else: no grants, no reports, no
other network's requests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class Network:
    """The calls a support network's software makes, with its client credentials."""

    def __init__(self, access: str, network: str, client_id: str, secret: str) -> None:
        self.access, self.network = access.rstrip("/"), network
        self.client_id, self.secret = client_id, secret
        self._token: tuple[str, float] | None = None

    def token(self) -> str:
        """A client token, fetched again shortly before it expires (not per request)."""
        if self._token is None or time.monotonic() > self._token[1]:
            form = urllib.parse.urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.secret,
                }
            ).encode()
            answer = self._call("POST", "/v1/token", form=form)
            renew_at = time.monotonic() + 0.75 * int(answer["expires_in"])
            self._token = (str(answer["access_token"]), renew_at)
        return self._token[0]

    def support_requests(self) -> list[dict[str, Any]]:
        path = f"/v1/support-networks/{urllib.parse.quote(self.network)}/support-requests"
        return list(self._call("GET", path))

    def accept(self, support_request_id: str, workers: list[str]) -> dict[str, Any]:
        path = (
            f"/v1/support-networks/{urllib.parse.quote(self.network)}"
            f"/support-requests/{support_request_id}/accept"
        )
        return dict(self._call("POST", path, {"support_workers": workers}))

    def access_request(self, request_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/access-requests/{request_id}"))

    def _call(self, method: str, path: str, body: Any = None, form: bytes | None = None) -> Any:
        headers = {"Accept": "application/json"}
        data = form
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            headers["Authorization"] = f"Bearer {self.token()}"
            if body is not None:
                headers["Content-Type"] = "application/json"
                data = json.dumps(body).encode()
        url = self.access + path
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"not an http(s) URL: {url}")
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                return json.load(answer)
        except urllib.error.HTTPError as error:
            raise SystemExit(f"{method} {path}: {error.code} {error.read().decode()}") from None


def follow(network: Network, request_id: str, timeout: float, every: float = 2.0) -> str:
    """Print the access request's status whenever it changes, until the school decides."""
    deadline = time.monotonic() + timeout
    seen = None
    while True:
        request = network.access_request(request_id)
        if request["status"] != seen:
            seen = request["status"]
            reason = f" ({request['reason']})" if request.get("reason") else ""
            print(f"access request {request_id}: {seen}{reason}", flush=True)
        if seen != "pending" or time.monotonic() > deadline:
            return str(seen)
        time.sleep(every)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--access", default="http://127.0.0.1:8103")
    parser.add_argument("--network", required=True)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the support requests sent to the network")
    accept = commands.add_parser("accept", help="accept a support request")
    accept.add_argument("support_request_id")
    accept.add_argument("--worker", action="append", required=True, help="a worker's INSZ")
    follow_it = commands.add_parser("follow", help="follow an access request until decided")
    follow_it.add_argument("request_id")
    follow_it.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()
    client_id, secret = os.environ.get("IRIS_CLIENT_ID"), os.environ.get("IRIS_CLIENT_SECRET")
    if not client_id or not secret:
        parser.error("set IRIS_CLIENT_ID and IRIS_CLIENT_SECRET (the network's client)")
    network = Network(args.access, args.network, client_id, secret)

    if args.command == "list":
        for item in network.support_requests():
            print(
                f"{item['support_request_id']}\t{item['status']}\tschool {item['school_id']}"
                f"\t{item.get('pupil_name') or ''}\t{item['question']}"
            )
    elif args.command == "accept":
        accepted = network.accept(args.support_request_id, args.worker)
        print(f"support request {accepted['support_request_id']}: {accepted['status']}")
        for worker in accepted["support_workers"]:
            print(f"access request {worker['request_id']} for {worker['person_id']}")
    else:
        decided = follow(network, args.request_id, args.timeout)
        return 0 if decided != "pending" else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
