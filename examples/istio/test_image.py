#!/usr/bin/env python3
"""Reads the OCI image layout `make oci` writes the way Istio's Wasm image fetcher does.

`make oci-test` runs it (Python 3.11 stdlib only). The reader below follows istio/istio
pkg/wasm/imagefetcher.go and cache.go, re-implemented here, not copied:

1. The digest Istio compares with a WasmPlugin's `sha256` for an oci:// URL is the image
   manifest's digest (`img.Digest()`); for an http(s) URL it is the module's own sha256.
2. A Docker schema 2 manifest must have one layer of the Docker rootfs tar.gzip type.
3. Otherwise the "compat" variant is tried: exactly one layer, of type
   application/vnd.oci.image.layer.v1.tar+gzip, gunzipped and untarred, the first entry whose
   base name is `plugin.wasm` is the module.
4. Otherwise the "oci" artifact variant: two layers, one of type
   application/vnd.module.wasm.content.layer.v1+wasm holding the raw module.
5. The module must start with the wasm magic and be at least 8 bytes long.

    examples/istio/test_image.py [LAYOUT_DIR [MODULE]]

defaults: target/oci/jwtgate-envoy and target/envoy/jwtgate_envoy.wasm.
"""

import gzip
import hashlib
import io
import json
import posixpath
import re
import subprocess
import sys
import tarfile
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ROOT / "target" / "oci" / "jwtgate-envoy"
MODULE = ROOT / "target" / "envoy" / "jwtgate_envoy.wasm"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
WASM_ARTIFACT_LAYER = "application/vnd.module.wasm.content.layer.v1+wasm"


class Refused(Exception):
    """What Istio would report as `could not fetch Wasm binary` / `invalid format`."""


class Layout:
    """An OCI image layout as a registry would serve it: blobs by digest, checked on read."""

    def __init__(self, root: Path):
        self.root = root

    def blob(self, descriptor: dict) -> bytes:
        algo, _, hexdigest = descriptor["digest"].partition(":")
        if algo != "sha256":
            raise Refused(f"unsupported digest {descriptor['digest']}")
        data = (self.root / "blobs" / "sha256" / hexdigest).read_bytes()
        # Registries and go-containerregistry verify what they serve against the descriptor.
        if hashlib.sha256(data).hexdigest() != hexdigest:
            raise Refused(f"blob {hexdigest} does not match its digest")
        if len(data) != descriptor["size"]:
            raise Refused(f"blob {hexdigest} is {len(data)} bytes, descriptor says {descriptor['size']}")
        return data

    def manifest_descriptor(self, tag: str | None = None) -> dict:
        """The descriptor a copy tool pushes: the index entry with that tag (or the only one)."""
        layout = json.loads((self.root / "oci-layout").read_bytes())
        if layout.get("imageLayoutVersion") != "1.0.0":
            raise Refused(f"oci-layout: {layout}")
        index = json.loads((self.root / "index.json").read_bytes())
        manifests = index["manifests"]
        if tag is not None:
            manifests = [m for m in manifests
                         if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
        if len(manifests) != 1:
            raise Refused(f"index.json: {len(manifests)} manifests for tag {tag!r}")
        return manifests[0]


def plugin_from_tar_gzip(blob: bytes) -> bytes:
    """The first entry whose base name is plugin.wasm, as Istio's extractWasmPluginBinary reads it."""
    try:
        raw = gzip.decompress(blob)
    except OSError as e:
        raise Refused(f"failed to parse layer as tar.gz: {e}") from e
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
        for member in tar:
            if posixpath.basename(member.name) == "plugin.wasm":
                f = tar.extractfile(member)
                if f is None:
                    raise Refused("plugin.wasm is not a regular file")
                data = f.read()
                if len(data) != member.size:
                    raise Refused("plugin.wasm truncated")
                return data
    raise Refused("plugin.wasm not found in the archive")


def istio_fetch(layout: Layout, descriptor: dict) -> tuple[bytes, str, str]:
    """Returns (module, checksum Istio compares with `sha256`, which variant matched)."""
    raw_manifest = layout.blob(descriptor)
    checksum = hashlib.sha256(raw_manifest).hexdigest()
    manifest = json.loads(raw_manifest)
    layers = manifest.get("layers", [])

    if manifest.get("mediaType") == DOCKER_MANIFEST:
        if len(layers) != 1 or layers[0]["mediaType"] != DOCKER_LAYER:
            raise Refused("Docker image: want one layer of " + DOCKER_LAYER)
        module, variant = plugin_from_tar_gzip(layout.blob(layers[0])), "docker"
    elif len(layers) == 1 and layers[0]["mediaType"] == OCI_LAYER:
        module, variant = plugin_from_tar_gzip(layout.blob(layers[0])), "compat"
    elif len(layers) == 2 and any(l["mediaType"] == WASM_ARTIFACT_LAYER for l in layers):
        wasm_layer = next(l for l in layers if l["mediaType"] == WASM_ARTIFACT_LAYER)
        module, variant = layout.blob(wasm_layer), "oci-artifact"
    else:
        raise Refused("the given image is in invalid format as an OCI image: "
                      f"layer media types {[l['mediaType'] for l in layers]}")

    if len(module) < 8 or module[:4] != b"\0asm":
        raise Refused("fetched Wasm binary is invalid")
    return module, checksum, variant


def run_oci(out: Path, module: Path) -> str:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "envoy" / "scripts" / "oci.py"), "--wasm", str(module), "--out", str(out)],
        check=True, capture_output=True, text=True)
    return proc.stdout


class IstioAcceptsTheImage(unittest.TestCase):
    layout_dir = LAYOUT
    module_path = MODULE

    @classmethod
    def setUpClass(cls):
        if not (cls.layout_dir / "index.json").is_file():
            raise SystemExit(f"{cls.layout_dir}: no OCI layout; run `make oci` first")
        cls.module = cls.module_path.read_bytes()
        cls.layout = Layout(cls.layout_dir)
        cls.tag = json.loads((cls.layout_dir / "index.json").read_bytes())["manifests"][0][
            "annotations"]["org.opencontainers.image.ref.name"]

    def test_compat_variant_yields_the_shipped_module(self):
        descriptor = self.layout.manifest_descriptor(self.tag)
        module, checksum, variant = istio_fetch(self.layout, descriptor)
        self.assertEqual(variant, "compat")
        self.assertEqual(module, self.module, "plugin.wasm differs from the shipped module")
        self.assertEqual(hashlib.sha256(module).hexdigest(), hashlib.sha256(self.module).hexdigest())
        # The checksum Istio pins for oci:// is the manifest digest the index (and the registry) names.
        self.assertEqual("sha256:" + checksum, descriptor["digest"])

    def test_media_types(self):
        descriptor = self.layout.manifest_descriptor(self.tag)
        self.assertEqual(descriptor["mediaType"], OCI_MANIFEST)
        manifest = json.loads(self.layout.blob(descriptor))
        self.assertEqual(manifest["schemaVersion"], 2)
        self.assertEqual(manifest["mediaType"], OCI_MANIFEST)
        self.assertEqual(manifest["config"]["mediaType"], OCI_CONFIG)
        self.assertEqual([l["mediaType"] for l in manifest["layers"]], [OCI_LAYER])
        config = json.loads(self.layout.blob(manifest["config"]))
        layer_tar = gzip.decompress(self.layout.blob(manifest["layers"][0]))
        self.assertEqual(config["rootfs"]["diff_ids"], ["sha256:" + hashlib.sha256(layer_tar).hexdigest()])
        self.assertEqual((config["os"], config["architecture"]), ("wasip1", "wasm"))

    def test_layer_is_one_root_owned_file_with_a_fixed_mtime(self):
        manifest = json.loads(self.layout.blob(self.layout.manifest_descriptor(self.tag)))
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(self.layout.blob(manifest["layers"][0])))) as tar:
            members = tar.getmembers()
        self.assertEqual([(m.name, m.uid, m.gid, m.mtime, m.isreg()) for m in members],
                         [("plugin.wasm", 0, 0, 0, True)])

    def test_no_stray_blobs(self):
        manifest_desc = self.layout.manifest_descriptor(self.tag)
        manifest = json.loads(self.layout.blob(manifest_desc))
        wanted = {d["digest"].split(":")[1] for d in [manifest_desc, manifest["config"], *manifest["layers"]]}
        present = {p.name for p in (self.layout_dir / "blobs" / "sha256").iterdir()}
        self.assertEqual(present, wanted)

    def test_reproducible_and_archive_matches(self):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            out_a = run_oci(Path(a), self.module_path)
            run_oci(Path(b), self.module_path)
            files = lambda d: {str(p.relative_to(d)): p.read_bytes() for p in d.rglob("*") if p.is_file()}
            la, lb = files(Path(a) / "jwtgate-envoy"), files(Path(b) / "jwtgate-envoy")
            self.assertEqual(la, lb, "two runs wrote different layouts")
            self.assertEqual(la, files(self.layout_dir), "the layout in target/ is stale")
            digest = self.layout.manifest_descriptor(self.tag)["digest"]
            self.assertIn(f"manifest digest:  {digest}", out_a)
            self.assertIn(f"sha256:{hashlib.sha256(self.module).hexdigest()}", out_a)
            with tarfile.open(Path(a) / "jwtgate-envoy.oci.tar") as tar:
                archived = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
            self.assertEqual(archived, la)

    def test_example_pins_a_sha256_istio_accepts(self):
        # Istio's WasmPlugin schema: `sha256` is empty or 64 lowercase hex digits (no "sha256:").
        text = (ROOT / "examples" / "istio" / "wasmplugin.yaml").read_text()
        pins = re.findall(r"^  sha256: *(\S*)$", text, re.M)
        self.assertEqual(len(pins), 1, "wasmplugin.yaml must pin sha256")
        self.assertRegex(pins[0], r"^[a-f0-9]{64}$")

    def test_the_old_oras_push_shape_is_refused(self):
        # What `oras push REF jwtgate_envoy.wasm` made (the instructions before this test):
        # one layer of oras' default type holding the raw module. Istio refuses it.
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            (root / "blobs" / "sha256").mkdir(parents=True)

            def put(data: bytes, media_type: str) -> dict:
                h = hashlib.sha256(data).hexdigest()
                (root / "blobs" / "sha256" / h).write_bytes(data)
                return {"mediaType": media_type, "digest": "sha256:" + h, "size": len(data)}

            config = put(b"{}", "application/vnd.oci.empty.v1+json")
            layer = put(self.module, "application/vnd.oci.image.layer.v1.tar")
            manifest = put(json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                                       "config": config, "layers": [layer]}).encode(), OCI_MANIFEST)
            with self.assertRaises(Refused):
                istio_fetch(Layout(root), manifest)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        IstioAcceptsTheImage.layout_dir = Path(sys.argv.pop(1)).resolve()
    if len(sys.argv) > 1:
        IstioAcceptsTheImage.module_path = Path(sys.argv.pop(1)).resolve()
    unittest.main(verbosity=2)
