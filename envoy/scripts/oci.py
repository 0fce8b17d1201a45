#!/usr/bin/env python3
"""Packs the Envoy module as an OCI image layout that Istio's WasmPlugin accepts.

No Docker daemon, no registry, Python 3.11 stdlib only. Istio's image fetcher
(istio/istio pkg/wasm/imagefetcher.go) accepts three shapes; this writes the "compat"
OCI one, which every registry and copy tool handles as an ordinary image:

- an OCI image manifest (application/vnd.oci.image.manifest.v1+json),
- an OCI image config (application/vnd.oci.image.config.v1+json),
- exactly one layer, application/vnd.oci.image.layer.v1.tar+gzip, a tar holding
  `plugin.wasm` (the file name Istio looks for).

The output is reproducible byte for byte (fixed mtimes, uid/gid 0, sorted entries, gzip
without name or time), so the manifest digest printed at the end (what Istio compares
with a WasmPlugin's `sha256` for an oci:// URL) is a function of the module alone.

    envoy/scripts/oci.py [--wasm target/envoy/jwtgate_envoy.wasm] [--out target/oci]

Writes OUT/jwtgate-envoy/ (the layout: oci-layout, index.json, blobs/sha256/...) and
OUT/jwtgate-envoy.oci.tar (the same layout as one tar, for `skopeo copy oci-archive:`
and `oras cp --from-oci-layout`).
"""

import argparse
import gzip
import hashlib
import io
import json
import re
import shutil
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
PLUGIN_NAME = "plugin.wasm"
IMAGE_NAME = "jwtgate-envoy"
SOURCE = "https://github.com/jwtgate/jwtgate"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(obj) -> bytes:
    # Compact and in insertion order: the bytes (and so the digests) never depend on the run.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True).encode()


def tar_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    """A tar of regular files with every varying field fixed (mtime 0, root, 0644), sorted."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in sorted(entries):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    # No file name and mtime 0 in the gzip header; a fixed level.
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
        gz.write(data)
    return buf.getvalue()


def crate_version() -> str:
    text = (ROOT / "envoy" / "Cargo.toml").read_text()
    m = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
    if not m:
        sys.exit("envoy/scripts/oci.py: no version in envoy/Cargo.toml")
    return m.group(1)


def build_layout(wasm: bytes, version: str) -> tuple[dict[str, bytes], bytes, str]:
    """Returns ({digest hex: blob}, index.json bytes, manifest digest hex)."""
    layer_tar = tar_bytes([(PLUGIN_NAME, wasm)])
    layer = gzip_bytes(layer_tar)
    config = canonical_json({
        "architecture": "wasm",
        "os": "wasip1",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha256(layer_tar)]},
    })
    manifest = canonical_json({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": "sha256:" + sha256(config), "size": len(config)},
        "layers": [{
            "mediaType": LAYER_TYPE,
            "digest": "sha256:" + sha256(layer),
            "size": len(layer),
            "annotations": {"org.opencontainers.image.title": PLUGIN_NAME},
        }],
        "annotations": {
            "org.opencontainers.image.title": IMAGE_NAME,
            "org.opencontainers.image.version": version,
            "org.opencontainers.image.source": SOURCE,
            "org.opencontainers.image.licenses": "Apache-2.0",
        },
    })
    manifest_digest = sha256(manifest)
    index = canonical_json({
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": [{
            "mediaType": MANIFEST_TYPE,
            "digest": "sha256:" + manifest_digest,
            "size": len(manifest),
            # The tag the copy tools resolve (`oras cp --from-oci-layout DIR:0.1.0`, `oci:DIR:0.1.0`).
            "annotations": {"org.opencontainers.image.ref.name": version},
        }],
    })
    blobs = {sha256(b): b for b in (layer, config, manifest)}
    return blobs, index, manifest_digest


def write_layout(out: Path, blobs: dict[str, bytes], index: bytes) -> dict[str, bytes]:
    """Writes the layout directory afresh (no stale blobs); returns its files by relative path."""
    files = {"oci-layout": canonical_json({"imageLayoutVersion": "1.0.0"}), "index.json": index}
    for digest, blob in blobs.items():
        files[f"blobs/sha256/{digest}"] = blob
    if out.exists():
        shutil.rmtree(out)
    for rel, data in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wasm", type=Path, default=ROOT / "target" / "envoy" / "jwtgate_envoy.wasm",
                    help="the module (default: the stripped one envoy/scripts/build.sh writes)")
    ap.add_argument("--out", type=Path, default=ROOT / "target" / "oci")
    ap.add_argument("--tag", default=None, help="the layout's tag (default: envoy/Cargo.toml's version)")
    args = ap.parse_args()

    if not args.wasm.is_file():
        sys.exit(f"envoy/scripts/oci.py: {args.wasm} not found; build it with envoy/scripts/build.sh")
    wasm = args.wasm.read_bytes()
    if wasm[:4] != b"\0asm":
        sys.exit(f"envoy/scripts/oci.py: {args.wasm} is not a wasm module")
    tag = args.tag or crate_version()

    blobs, index, manifest_digest = build_layout(wasm, tag)
    layout = args.out / IMAGE_NAME
    files = write_layout(layout, blobs, index)
    archive = args.out / f"{IMAGE_NAME}.oci.tar"
    archive.write_bytes(tar_bytes(list(files.items())))

    try:
        shown = layout.relative_to(Path.cwd())
    except ValueError:
        shown = layout
    print(f"OCI image layout: {shown} (tag {tag}), archive: {archive.name}")
    print(f"manifest digest:  sha256:{manifest_digest}   (WasmPlugin sha256 for an oci:// url)")
    print(f"plugin.wasm:      sha256:{sha256(wasm)}   (WasmPlugin sha256 for an https:// url)")


if __name__ == "__main__":
    main()
