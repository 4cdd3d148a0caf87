"""Container images of rendered objects, read as the kubelet reads them.

Kubernetes does not check an image string: the API server stores any text, and the kubelet,
which parses it with github.com/distribution/reference (`ParseNormalizedNamed`), fails the pod
with `InvalidImageName`. The classic cause is a version Helm read as a number: `version: 4562e17`
(a git short SHA) renders the tag `4.562e+20`. This module reads the grammar of that package
(reference.go, regexp.go, normalize.go; digests as go-digest validates them) in its own words:

    reference  := name [":" tag] ["@" digest]
    name       := [host [":" port] "/"] path-component ["/" path-component]*
    path-component := [a-z0-9]+ (separator [a-z0-9]+)*,  separator := "." | "_" | "__" | "-"+
    host       := DNS labels of letters, digits and inner "-", joined by "."; or "[" IPv6 "]"
    tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex (sha256: 64, sha384: 96, sha512: 128 lower-case digits)

The first component is the registry host only if it holds a `.` or a `:`, is `localhost`, or
has an upper-case letter (as the kubelet splits it); the whole name is at most 255 characters,
and a name of 64 hexadecimal digits alone is an image ID, not a name.

Rule ids:
- `image-reference`: a container image that is not a valid image reference, or is empty: the
  `image` of every container and init container of a Pod and of the pod template of a
  Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job and CronJob; of
  the containers of an InferenceService's predictor, transformer and explainer (canaries
  included) and of their model or framework spec; of a ServingRuntime's or
  ClusterServingRuntime's containers (and their `workerSpec`'s); and an `oci://` `storageUri`
  (or `storageUris[].uri`, or the value of a container's environment variable, such as the
  `STORAGE_URI` of a custom container), which KServe pulls as an image. The kubelet fails such a pod with
  `InvalidImageName`. The message says what is wrong (`the tag '4.562e+20' has '+'`) and the
  likely fix: a version Helm read as a number is quoted in the config (`version: "4562e17"`).
  An empty image in an InferenceService's spec means "the serving runtime's" and is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..diagnostics import declared_in
from .kserve_rules import GROUP, PREDICTOR_IMPLEMENTATIONS, Finding, Path, components

_declare = declared_in(__doc__, __name__)
RULE_IMAGE = _declare("image-reference")

NAME_MAX = 255  # reference.NameTotalLengthMax
TAG_MAX = 128
OCI_PREFIX = "oci://"
_ALNUM = "[a-z0-9]+"
_SEPARATOR = "(?:[._]|__|-+)"
_PATH_COMPONENT = re.compile(f"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*")
_HOST_LABEL = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")
_TAG_CHAR = re.compile(r"[A-Za-z0-9_.-]")  # Go's \w is ASCII; Python's is not: spelt out
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_DIGEST_HEX = {"sha256": 64, "sha384": 96, "sha512": 128}  # go-digest's registered algorithms
_IMAGE_ID = re.compile(r"[a-f0-9]{64}")
_GO_FLOAT = re.compile(r"[0-9](?:\.[0-9]+)?e[-+][0-9]{2,}")  # how Helm prints a big number: 4.562e+20
NUMBER_HINT = "a version Helm read as a number? quote it in the config (`version: \"4562e17\"`)"

# kind -> (API groups, path to its pod spec)
_POD_SPECS: dict[str, tuple[tuple[str, ...], Path]] = {
    "Pod": (("",), ("spec",)),
    "PodTemplate": (("",), ("template", "spec")),
    "ReplicationController": (("",), ("spec", "template", "spec")),
    "Deployment": (("apps", "extensions"), ("spec", "template", "spec")),
    "StatefulSet": (("apps",), ("spec", "template", "spec")),
    "DaemonSet": (("apps", "extensions"), ("spec", "template", "spec")),
    "ReplicaSet": (("apps", "extensions"), ("spec", "template", "spec")),
    "Job": (("batch",), ("spec", "template", "spec")),
    "CronJob": (("batch",), ("spec", "jobTemplate", "spec", "template", "spec")),
}
_RUNTIMES = ("ServingRuntime", "ClusterServingRuntime")
_CONTAINER_LISTS = ("containers", "initContainers")


def _shown(text: str, limit: int = 120) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _bad_char(text: str, allowed: re.Pattern[str]) -> str | None:
    return next((char for char in text if not allowed.fullmatch(char)), None)


def _tag_problem(tag: str) -> str | None:
    if _TAG.fullmatch(tag):
        return None
    if not tag:
        return "it ends with ':' but has no tag after it"
    bad = _bad_char(tag, _TAG_CHAR)
    if bad is not None:
        return f"the tag {_shown(tag)} has {bad!r} (a tag holds letters, digits, '_', '.' and '-')"
    if len(tag) > TAG_MAX:
        return f"the tag has {len(tag)} characters, more than {TAG_MAX}"
    return f"the tag {_shown(tag)} starts with {tag[0]!r} (a tag starts with a letter, a digit or '_')"


def _digest_problem(digest: str) -> str | None:
    algorithm, _, hex_digits = digest.partition(":")
    if _DIGEST.fullmatch(digest) and (algorithm not in _DIGEST_HEX or (
            len(hex_digits) == _DIGEST_HEX[algorithm] and hex_digits == hex_digits.lower())):
        if algorithm in _DIGEST_HEX:
            return None
        return f"the digest algorithm {_shown(algorithm)} is unknown (sha256, sha384 or sha512)"
    if algorithm in _DIGEST_HEX:
        return (f"the digest {_shown(digest)} is not {algorithm}: and {_DIGEST_HEX[algorithm]} lower-case "
                "hexadecimal digits")
    return f"the digest {_shown(digest)} is not algorithm:hex (e.g. sha256: and 64 hexadecimal digits)"


def _path_problem(path: str) -> str | None:
    if path != path.lower():
        return f"the repository path {_shown(path)} has upper-case letters (paths are lower case)"
    for component in path.split("/"):
        if _PATH_COMPONENT.fullmatch(component):
            continue
        if not component:
            return f"the repository path {_shown(path)} has an empty component ('//', or '/' at an end)"
        bad = next((c for c in component if not (c.isascii() and (c.isalnum() or c in "._-"))), None)
        if bad is not None:
            return (f"the repository path {_shown(path)} has {bad!r} (a path holds lower-case letters, "
                    "digits and the separators '.', '_', '__', '-')")
        return (f"the path component {_shown(component)} starts or ends with a separator, or joins "
                "separators ('.', '_', '__' or '-'s, each between letters or digits)")
    return None


def problem(reference: str) -> str | None:
    """What the kubelet finds wrong in the image reference `reference` (None: it pulls it)."""
    if not reference:
        return "it is empty"
    if reference != reference.strip():
        return "it has spaces or line breaks around it"
    name, at, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag: str | None = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    if _IMAGE_ID.fullmatch(name) and tag is None and not at:
        return "64 hexadecimal digits alone are an image ID, not an image name"
    host, path = None, name
    first, has_slash, rest = name.partition("/")
    if has_slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        host, path = first, rest
    if host is not None and not _HOST.fullmatch(host):
        return (f"the registry host {_shown(host)} is not a host name (or [IPv6] address) with an "
                "optional :port")
    found = _path_problem(path) if path else "it has no repository name"
    found = found or (_tag_problem(tag) if tag is not None else None)
    found = found or (_digest_problem(digest) if at else None)
    if found is None and len(name) > NAME_MAX:
        found = f"the name has {len(name)} characters, more than {NAME_MAX}"
    return found


def _fix(reference: str, what: str) -> str:
    name = reference.partition("@")[0]
    tag = name[name.rfind(":") + 1:] if name.rfind(":") > name.rfind("/") else ""
    if _GO_FLOAT.fullmatch(tag) or "+" in tag:
        return NUMBER_HINT
    if "upper-case" in what:
        return "write the repository path in lower case"
    return "write a valid image reference, e.g. quay.io/org/model:1.2.3"


def _finding(path: Path, value: str, uri: bool = False) -> Finding:
    reference = value[len(OCI_PREFIX):] if uri else value
    what = problem(reference) or ""
    where = ".".join(map(str, path))
    kind = "OCI image reference (after oci://)" if uri else "image reference"
    pulled = "KServe pulls it as an image and " if uri else ""
    return Finding(RULE_IMAGE, path, f"{where} {_shown(value)} is not a valid {kind}: {what}; {pulled}the "
                   f"kubelet fails the pod with InvalidImageName; {_fix(reference, what)}")


def _containers(spec: dict[str, Any], path: Path, required: bool) -> Iterator[Finding]:
    """The images of `spec`'s containers and init containers; `required`: an absent or empty
    image is wrong (else it means "filled in by KServe")."""
    for key in _CONTAINER_LISTS:
        listed = spec.get(key)
        for index, container in enumerate(listed if isinstance(listed, list) else []):
            if not isinstance(container, dict):
                continue
            image = container.get("image")
            where = (*path, key, index, "image")
            if image is None or image == "":
                if required:
                    name = container.get("name")
                    named = f"container {name!r}" if isinstance(name, str) else "the container"
                    yield Finding(RULE_IMAGE, where if "image" in container else (*path, key, index),
                                  f"{'.'.join(map(str, where))}: {named} has no image (a value missing "
                                  "from the config?); the kubelet cannot start it; set the image")
            elif isinstance(image, str) and problem(image) is not None:
                yield _finding(where, image)
            env = container.get("env")  # e.g. STORAGE_URI of a custom container: an image too
            for number, variable in enumerate(env if isinstance(env, list) else []):
                if isinstance(variable, dict):
                    yield from _oci((*path, key, index, "env", number, "value"), variable.get("value"))
    worker = spec.get("workerSpec")
    if isinstance(worker, dict):
        yield from _containers(worker, (*path, "workerSpec"), required)


def _group(obj: dict[str, Any]) -> str:
    api_version = obj.get("apiVersion")
    return api_version.rpartition("/")[0] if isinstance(api_version, str) else ""


def _at(obj: Any, path: Path) -> Any:
    for part in path:
        obj = obj.get(part) if isinstance(obj, dict) and isinstance(part, str) else None
    return obj


def _inference_service(spec: dict[str, Any]) -> Iterator[Finding]:
    for _, path, component in components(spec):
        yield from _containers(component, path, required=False)
        for key in (*PREDICTOR_IMPLEMENTATIONS, "art"):
            implementation = component.get(key)
            if not isinstance(implementation, dict):
                continue
            image = implementation.get("image")
            if isinstance(image, str) and image and problem(image) is not None:
                yield _finding((*path, key, "image"), image)
            yield from _oci((*path, key, "storageUri"), implementation.get("storageUri"))
        uris = component.get("storageUris")
        for index, entry in enumerate(uris if isinstance(uris, list) else []):
            if isinstance(entry, dict):
                yield from _oci((*path, "storageUris", index, "uri"), entry.get("uri"))


def _oci(path: Path, uri: Any) -> Iterator[Finding]:
    if isinstance(uri, str) and uri.startswith(OCI_PREFIX) and problem(uri[len(OCI_PREFIX):]) is not None:
        yield _finding(path, uri, uri=True)


def findings(obj: dict[str, Any]) -> list[Finding]:
    """The image references of `obj` the kubelet would refuse (nothing for kinds without images)."""
    kind = obj.get("kind")
    if kind in _POD_SPECS:
        groups, path = _POD_SPECS[str(kind)]
        pod_spec = _at(obj, path)
        if _group(obj) in groups and isinstance(pod_spec, dict):
            return list(_containers(pod_spec, path, required=True))
        return []
    if _group(obj) != GROUP or not isinstance(obj.get("spec"), dict):
        return []
    if kind == "InferenceService":
        return list(_inference_service(obj["spec"]))
    if kind in _RUNTIMES:
        return list(_containers(obj["spec"], ("spec",), required=True))
    return []
