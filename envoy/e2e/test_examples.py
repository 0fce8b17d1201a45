"""The shipped examples load: envoy/envoy.yaml passes Envoy's own validation (which also runs
the filter's on_configure), and the Istio WasmPlugin's pluginConfig is a configuration the
filter accepts, in the JSON form Istio passes it."""

import json
import subprocess
from pathlib import Path

import yaml

from envoyrun import ENVOY, ROOT, Envoy, cluster, free_port, listener, route_to, wasm_filter


def test_example_bootstrap_validates():
    out = subprocess.run([ENVOY, "--mode", "validate", "-c", "envoy/envoy.yaml"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "jwtgate: configured, 2 provider(s)" in out.stdout + out.stderr


def test_istio_plugin_config_is_accepted():
    doc = yaml.safe_load(Path(ROOT, "examples/istio/wasmplugin.yaml").read_text())
    assert doc["kind"] == "WasmPlugin" and doc["spec"]["phase"] == "AUTHN"
    plugin = doc["spec"]["pluginConfig"]
    # google.protobuf.Struct carries numbers as doubles.
    plugin["cache_size"] = float(plugin["cache_size"])
    e = Envoy([listener("istio", free_port(), [wasm_filter(plugin)], [route_to("c")])],
              [cluster("c", 9), cluster("outbound|80||oidc.eks.eu-west-1.amazonaws.com", 9)])
    try:
        e.start()
        assert "jwtgate: configured, 1 provider(s): eks (OIDC discovery)" in e.log()
    finally:
        e.stop()
    json.dumps(plugin)
