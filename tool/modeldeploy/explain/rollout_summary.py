"""What a change does to live traffic, in plain words: the one place these rules live.

`modeldeploy diff` prints these sentences for each changed deployment, and the
rollout commands (`canary set/promote/rollback`, `release`) print them for the edit
they made (once it is written) or, with --dry-run, would make, so a reviewer and an
operator read the same words.

KServe semantics (Serverless mode; seeds 001/004, kserve docs):
- no canaryTrafficPercent: the latest ready revision gets 100% of traffic;
- canaryTrafficPercent N: N% to the latest revision, 100-N% to the previously
  rolled-out one; 100 is the blue/green cut-over, 0 sends everything back;
- removing it promotes the latest revision;
- RawDeployment mode ignores canaryTrafficPercent (kserve/kserve#5335).

Each rule is a function (before, after) -> sentence or None; RULES orders them.

The states come from what renders, not from config values (`RolloutState.from_objects`): the
rendered InferenceService's name, its storage URI (image and version: `spec.predictor.model`,
a framework key, or the `STORAGE_URI` env of the `kserve-container`), its
`canaryTrafficPercent` and its deploymentMode annotation (KServe >= 0.16's `Standard` and
`Knative` read as RawDeployment and Serverless; absent: Serverless). A chart that renders no
InferenceService (a UI, TrustyAI) is explained by its workloads (`workload_changes`: images and
replicas of Deployments, StatefulSets and DaemonSets), and a config change that renders the same
objects is said as such (`nothing_rendered`). For this repository's chart, which renders its
values one to one, the states and so the sentences are those of its values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..results.sentence import Sentence

SERVERLESS = "Serverless"
RAW = "RawDeployment"
MODE_NAMES = {"Standard": RAW, "Knative": SERVERLESS}  # KServe >= 0.16 names, same modes
MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True)
class RolloutState:
    """The traffic-relevant part of one deployment's config."""

    name: str
    version: str | None
    canary_percent: int | None  # None: no canary field
    deployment_mode: str = SERVERLESS
    image: str | None = None  # oci://repository/namespace/name (without the tag)

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> RolloutState:
        canary = values.get("canary")
        percent = canary.get("trafficPercent") if isinstance(canary, dict) else None
        repo, namespace, name = (values.get(k) for k in ("image_repository", "image_namespace", "name"))
        return cls(
            name=str(name),
            version=values.get("version") if isinstance(values.get("version"), str) else None,
            canary_percent=percent if isinstance(percent, int) and not isinstance(percent, bool) else None,
            deployment_mode=values.get("deployment_mode") or SERVERLESS,
            image=f"oci://{repo}/{namespace}/{name}" if repo and namespace else None,
        )


    @classmethod
    def from_objects(cls, objects: Iterable[Any]) -> RolloutState | None:
        """The state of the first rendered InferenceService (None: the render has none)."""
        for obj in objects:
            if isinstance(obj, dict) and obj.get("kind") == "InferenceService":
                return cls._of_inferenceservice(obj)
        return None

    @classmethod
    def _of_inferenceservice(cls, obj: dict[str, Any]) -> RolloutState:
        metadata = _mapping(obj.get("metadata"))
        predictor = _mapping(_mapping(obj.get("spec")).get("predictor"))
        annotations = _mapping(metadata.get("annotations"))
        mode = annotations.get(MODE_ANNOTATION)
        mode = MODE_NAMES.get(str(mode), str(mode)) if mode else SERVERLESS
        percent = predictor.get("canaryTrafficPercent")
        image, version = _split_uri(storage_uri(predictor))
        return cls(name=str(metadata.get("name")), version=version,
                   canary_percent=percent if isinstance(percent, int) and not isinstance(percent, bool)
                   else None,
                   deployment_mode=mode, image=image)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def storage_uri(predictor: dict[str, Any]) -> str | None:
    """Where the predictor's model comes from: its model's (or a framework key's) storageUri, or
    the STORAGE_URI env of its kserve-container."""
    for key, spec in predictor.items():
        if isinstance(spec, dict) and isinstance(spec.get("storageUri"), str) and key != "containers":
            return str(spec["storageUri"])
    for container in predictor.get("containers") or []:
        if isinstance(container, dict) and container.get("name") == "kserve-container":
            for env in container.get("env") or []:
                if isinstance(env, dict) and env.get("name") == "STORAGE_URI" \
                        and isinstance(env.get("value"), str):
                    return str(env["value"])
    return None


def _split_uri(uri: str | None) -> tuple[str | None, str | None]:
    """(the URI without its tag, the tag) of `oci://repo/ns/name:tag`; a port is no tag."""
    if not uri:
        return None, None
    head, slash, last = uri.rpartition("/")
    if ":" in last:
        name, _, tag = last.rpartition(":")
        return f"{head}{slash}{name}", tag
    return uri, None


Rule = Callable[[RolloutState | None, RolloutState | None], Sentence | None]


def _version_changed(before: RolloutState | None, after: RolloutState | None) -> bool:
    return before is not None and after is not None and (
        before.version != after.version or before.image != after.image)


def _canary_active(state: RolloutState) -> bool:
    return state.deployment_mode == SERVERLESS and state.canary_percent is not None


def new_deployment(before: RolloutState | None, after: RolloutState | None) -> Sentence | None:
    if before is None and after is not None:
        return Sentence("new-deployment", f"new deployment {after.name!r}: version {after.version} "
                        "receives all traffic once ready")
    return None


def removed_deployment(before: RolloutState | None, after: RolloutState | None) -> Sentence | None:
    if before is not None and after is None:
        return Sentence("removed-deployment", f"removed deployment {before.name!r}: its "
                        "InferenceService and all its revisions are deleted")
    return None


def version_change(before: RolloutState | None, after: RolloutState | None) -> Sentence | None:
    if before is None or after is None:
        return None
    if before.image != after.image and before.image and after.image:
        return Sentence("image-change", f"model image {before.image}:{before.version} -> "
                        f"{after.image}:{after.version}")
    if before.version != after.version:
        return Sentence("version-change", f"model version {before.version} -> {after.version}")
    return None


def mode_change(before: RolloutState | None, after: RolloutState | None) -> Sentence | None:
    if before and after and before.deployment_mode != after.deployment_mode:
        return Sentence("mode-change", f"deployment mode {before.deployment_mode} -> "
                        f"{after.deployment_mode}: KServe recreates the deployment's workloads")
    return None


def canary_ignored(before: RolloutState | None, after: RolloutState | None) -> Sentence | None:
    if after and after.deployment_mode == RAW and after.canary_percent is not None:
        return Sentence("canary-ignored", "canary ignored: RawDeployment mode does not split traffic, "
                        "the latest version receives 100% at once")
    return None


def canary_step(before: RolloutState | None, after: RolloutState | None) -> Sentence | None:
    if not (before and after and _canary_active(before) and _canary_active(after)):
        return None
    if before.canary_percent != after.canary_percent:
        return Sentence("canary-step", f"canary traffic {before.canary_percent}% -> "
                        f"{after.canary_percent}%")
    return None


def traffic_outcome(before: RolloutState | None, after: RolloutState | None) -> Sentence | None:
    """Where traffic goes after the change, when the change moves traffic at all."""
    if before is None or after is None or after.deployment_mode != SERVERLESS:
        return None
    version_changed = _version_changed(before, after)
    percent, old = after.canary_percent, before.canary_percent
    if not version_changed and (percent == old or before.deployment_mode != SERVERLESS):
        return None
    if percent is None:
        if version_changed:
            return Sentence("all-at-once", "the new version receives 100% of traffic immediately "
                            "(no canary)")
        return Sentence("promotion", "promotion: the canary is removed and the latest revision "
                        "receives 100% of traffic")
    if percent == 0:
        if version_changed:
            return Sentence("dark-launch", "the new version is deployed but receives 0% of traffic; "
                            "all traffic stays on the previous revision")
        return Sentence("rollback", "rollback: all traffic returns to the previous revision")
    if percent == 100:
        if version_changed:
            return Sentence("all-at-once", "the new version receives 100% of traffic immediately "
                            "(canary at 100%)")
        return Sentence("cut-over", "blue/green cut-over: the latest revision receives 100% of "
                        "traffic; the previous revision stays available for rollback")
    subject = "the new version" if version_changed else "the latest revision"
    return Sentence("canary-split", f"{subject} receives {percent}% of traffic; {100 - percent}% "
                    "stays on the previous revision")


RULES: tuple[Rule, ...] = (
    new_deployment,
    removed_deployment,
    version_change,
    mode_change,
    canary_step,
    canary_ignored,
    traffic_outcome,
)


def describe_change(before: RolloutState | None, after: RolloutState | None) -> list[Sentence]:
    """The sentences for a change from `before` to `after` (None: does not exist)."""
    return [s for rule in RULES if (s := rule(before, after)) is not None]


# Sentences about what a rendered diff shows beyond the config values. `modeldeploy
# diff` adds them; they need facts RolloutState does not hold (paths, namespaces,
# whether the manifests changed), so they are not in RULES.

def moved(before_dir: str, after_dir: str) -> Sentence:
    """Same env and same `name` in another folder: the same InferenceService."""
    return Sentence("moved", f"config moved from {before_dir}/ to {after_dir}/: same "
                    "InferenceService, manifests compared across the move")


def namespace_change(before_namespace: str, after_namespace: str) -> Sentence | None:
    if before_namespace == after_namespace:
        return None
    return Sentence("namespace-change", f"namespace {before_namespace} -> {after_namespace}: a new "
                    f"InferenceService starts in {after_namespace} with no revision history, and "
                    f"the one in {before_namespace} is deleted")


def manifests_only_change(state: RolloutState, cause: str, new_revision: bool) -> Sentence:
    """The manifests change while the traffic-relevant values do not.

    `cause` is what changed: "chart", "config" (e.g. resources) or "environment".
    `new_revision`: the predictor spec changed, so Serverless mode rolls out a new
    revision, which gets the traffic the unchanged canary setting gives it.
    """
    text = f"{cause} change: manifests changed, traffic split unchanged"
    if new_revision and state.deployment_mode == SERVERLESS:
        percent = state.canary_percent
        if percent is None:
            share = "it receives 100% of traffic once ready (no canary)"
        else:
            share = f"it receives {percent}% of traffic, {100 - percent}% stays on the previous revision"
        text += f"; the predictor rolls out a new revision: {share}"
    return Sentence(f"{cause}-change", text)


def invalid_config(side: str, config: str) -> Sentence:
    """One side's config does not render: no traffic statement can be made for it."""
    return Sentence("invalid-config", f"{side} config {config} is invalid and was not rendered "
                    "(see the problems)")


# Sentences for what renders besides an InferenceService, and for a change that renders nothing.

def nothing_rendered(cause: str) -> Sentence:
    """The config (or chart, environment) changed, and every rendered object stayed the same."""
    return Sentence("nothing-rendered", f"{cause} change, nothing rendered changed: the chart reads none "
                    "of the changed values, so Argo CD applies the same objects")


def _workloads(objects: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """`Kind/name` -> the images (container name -> image) and replicas of each workload."""
    found: dict[str, dict[str, Any]] = {}
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("kind") not in WORKLOAD_KINDS:
            continue
        metadata = _mapping(obj.get("metadata"))
        spec = _mapping(obj.get("spec"))
        pod = _mapping(_mapping(spec.get("template")).get("spec"))
        images = {str(c.get("name")): c.get("image") for key in ("initContainers", "containers")
                  for c in pod.get(key) or [] if isinstance(c, dict)}
        replicas = spec.get("replicas", 1) if obj.get("kind") != "DaemonSet" else None
        found[f"{obj.get('kind')}/{metadata.get('name')}"] = {"images": images, "replicas": replicas}
    return found


def workload_image(objects: Iterable[Any]) -> str | None:
    """The image of the first container of the first workload rendered, if any."""
    for workload in _workloads(objects).values():
        for image in workload["images"].values():
            return str(image)
    return None


def workload_changes(before: Iterable[Any], after: Iterable[Any]) -> list[Sentence]:
    """New and removed workloads, and their image and replica changes, from both renders."""
    old, new = _workloads(before), _workloads(after)
    sentences = []
    for name in sorted(new.keys() - old.keys()):
        images = ", ".join(str(i) for i in new[name]["images"].values())
        sentences.append(Sentence("new-workload", f"new {name}: runs {images}"))
    for name in sorted(old.keys() - new.keys()):
        sentences.append(Sentence("removed-workload", f"removed {name}: its pods are deleted"))
    for name in sorted(old.keys() & new.keys()):
        for container, image in new[name]["images"].items():
            was = old[name]["images"].get(container)
            if was is not None and was != image:
                sentences.append(Sentence("workload-image", f"{name}: container {container} image {was} -> "
                                          f"{image}: its pods are replaced"))
        if old[name]["replicas"] != new[name]["replicas"]:
            sentences.append(Sentence("workload-replicas", f"{name}: replicas {old[name]['replicas']} -> "
                                      f"{new[name]['replicas']}"))
    return sentences
