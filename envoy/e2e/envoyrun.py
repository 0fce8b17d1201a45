"""Start a real Envoy (from the project's .venv) on loopback with a generated bootstrap,
and stop it for sure. Used by the end-to-end tests, the demo and the benchmark."""

import http.client
import json
import os
import random
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENVOY = os.environ.get("ENVOY_BIN", str(ROOT / ".venv" / "bin" / "envoy"))
# The shipped module (envoy/scripts/build.sh: cargo's cdylib with unused callbacks stripped).
WASM = os.environ.get("JWTGATE_WASM", str(ROOT / "target" / "envoy" / "jwtgate_envoy.wasm"))


# Ports handed out by free_port in this process.
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on, for a listener configured later. Never one it gave
    before in this process, and never one of the kernel's ephemeral ports: bind(0) can return
    a port it just returned (two listeners of one Envoy config on one port: Envoy refuses the
    config, seen once in CI-like runs), and a local IdP server or an outgoing connection,
    which take ephemeral ports, could take it before Envoy binds it."""
    low, _ = _ephemeral_range()
    for _ in range(1000):
        port = random.randrange(max(1024, low - 12000), low)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError("no free loopback port below the ephemeral range")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def cluster(name: str, port: int) -> dict:
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
                "socket_address": {"address": "127.0.0.1", "port_value": port}}}}]}],
        },
    }


def wasm_filter(plugin: dict, vm_id: str = "jwtgate", wasm: str | None = None) -> dict:
    return {
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": "jwtgate",
                "vm_config": {
                    "vm_id": vm_id,
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"local": {"filename": wasm or WASM}},
                },
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": json.dumps(plugin),
                },
                "fail_open": False,
            },
        },
    }


def route_to(cluster_name: str, prefix: str = "/") -> dict:
    return {"match": {"prefix": prefix}, "route": {"cluster": cluster_name}}


def direct(prefix: str = "/", status: int = 200, body: str = "ok") -> dict:
    return {"match": {"prefix": prefix}, "direct_response": {"status": status, "body": {"inline_string": body}}}


def listener(name: str, port: int, http_filters: list, routes: list, max_headers_kb: int = 60) -> dict:
    return {
        "name": name,
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": name,
                "max_request_headers_kb": max_headers_kb,
                "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": routes}]},
                "http_filters": http_filters + [{
                    "name": "envoy.filters.http.router",
                    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
                }],
            },
        }]}],
    }


class Envoy:
    """One Envoy process. `listeners` and `clusters` are bootstrap fragments."""

    def __init__(self, listeners: list, clusters: list, concurrency: int = 1, log_level: str = "info"):
        self.admin_port = free_port()
        self.concurrency = concurrency
        self.log_level = log_level
        self.bootstrap = {
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": self.admin_port}}},
            "static_resources": {"listeners": listeners, "clusters": clusters},
        }
        self.dir = tempfile.mkdtemp(prefix="jwtgate-envoy-")
        self.log_path = os.path.join(self.dir, "envoy.log")
        self.proc = None

    def start(self, timeout: float = 30.0) -> "Envoy":
        cfg = os.path.join(self.dir, "envoy.json")
        with open(cfg, "w") as f:
            json.dump(self.bootstrap, f)
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [ENVOY, "-c", cfg, "--concurrency", str(self.concurrency), "--disable-hot-restart",
             "--log-level", self.log_level, "--component-log-level", "wasm:debug" if self.log_level == "debug" else "wasm:info"],
            stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"envoy exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            try:
                if self.admin("/ready")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"envoy not ready after {timeout}s:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log(self) -> str:
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def admin(self, path: str):
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=5)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def counter(self, name: str) -> int:
        """A stat's value (0 when it does not exist). Wasm metrics live under `wasmcustom.`."""
        _, text = self.admin("/stats?filter=" + name.replace(".", "\\.") + "$")
        for line in text.splitlines():
            k, _, v = line.partition(": ")
            if k.strip() == name or k.strip() == "wasmcustom." + name:
                try:
                    return int(v)
                except ValueError:
                    return 0
        return 0


def request(port: int, path: str = "/", headers: dict | None = None, method: str = "GET", timeout: float = 10.0):
    """(status, headers dict lower-cased, body text)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read().decode(errors="replace")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


def bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}"}
