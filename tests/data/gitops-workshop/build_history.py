"""Replay the workshop as git history: the fixture for `modeldeploy diff` between any two steps.

    python tests/data/gitops-workshop/build_history.py DEST [--model-chart DIR]

DEST (absent or empty) receives three git repositories, as the workshop's user has them:

- `mlops-helmcharts`: the model charts of this fixture plus this repository's chart (copied
  from --model-chart, by default charts/model-deployment/music-transformer of the checkout
  holding this script) at charts/model-deployment/music-transformer. Tag `v1`; then `main`
  moves on with one chart change (the RawDeployment chart's transformer image 0.3 -> 0.4).
- `jukebox-ui`: the UI chart at chart/. Tag `v0.1` has no `search_as_default` (key, schema
  property, env var); `main` is the fixture's chart as committed.
- `mlops-gitops`: the user's repository, one commit per step of STEPS, each tagged
  `step-NN`. `.modeldeploy.yaml` maps both chart repositories to the local git repositories
  above (proposed format, see mlops-gitops/.modeldeploy.yaml of the fixture).

Commits are reproducible: fixed author, committer and dates, no user or system git config,
so the same inputs give the same commit ids. Standard library and the git CLI only.
Each step's `expect` says, in rollout terms, what its rendered manifests change compared with
the step before: what `modeldeploy diff step-(NN-1) step-NN` should summarise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL_CHART = HERE.parents[2] / "charts" / "model-deployment" / "music-transformer"
HELMCHARTS_URL = "https://git.example.com/team-a/mlops-helmcharts.git"
UI_URL = "https://git.example.com/team-a/jukebox-ui.git"
REGISTRY = "image-registry.openshift-image-registry.svc:5000"
FIRST_DATE = 1_767_261_600  # 2026-01-01T10:00:00Z; each commit one hour later

# Only these repositories are copied from the fixture, never `variants/` or this script.
FIXTURE_GITOPS_FILES = ("appset-test.yaml", "appset-prod.yaml",
                        "model-deployments/test/environment.yaml",
                        "model-deployments/prod/environment.yaml")

MODELDEPLOY_YAML = f"""\
# Each chart repository is a local git repository here, so a config's target_revision is read
# as one of its refs (docs/charts.md).
chart_sources:
  default_repo_url: {HELMCHARTS_URL}
  default_target_revision: main
  repositories:
    - repo_url: {HELMCHARTS_URL}
      git: ../mlops-helmcharts
    - repo_url: {UI_URL}
      git: ../jukebox-ui
"""


def raw_model(env: str, version: str, extra: str = "", revision: str | None = None) -> str:
    """A config of the RawDeployment chart (music-transformer-raw)."""
    pin = f"target_revision: {revision}\n" if revision else ""
    return (f"{pin}chart_path: charts/model-deployment/music-transformer-raw\nname: jukebox\n"
            f"version: {version}\nimage_repository: {REGISTRY}\nimage_namespace: team-a-{env}\n{extra}")


def this_chart_model(env: str, version: str, extra: str = "") -> str:
    """A config of this repository's chart (music-transformer: Serverless, canary)."""
    return (f"chart_path: charts/model-deployment/music-transformer\nname: jukebox\n"
            f"version: {version}\nimage_repository: {REGISTRY}\nimage_namespace: team-a-{env}\n{extra}")


def feast_model(env: str, version: str, extra: str = "") -> str:
    """The feature-store chapter's edit: chart_path switched with sed, Feast keys appended."""
    return (f"chart_path: charts/model-deployment/music-transformer-with-feast\nname: jukebox\n"
            f"version: {version}\nimage_repository: {REGISTRY}\nimage_namespace: team-a-{env}\n{extra}"
            "feast_server_url: http://feast-server-feast-feature-server.team-a-toolings.svc.cluster.local:80\n"
            "feature_service: serving_fs\nentity_id_name: spotify_id\n")


def ui(env: str, image: str, extra: str = "", revision: str | None = None) -> str:
    pin = f"target_revision: {revision}\n" if revision else ""
    return (f"repo_url: {UI_URL}\n{pin}chart_path: chart\n"
            f"model_endpoint: https://jukebox-team-a-{env}.apps.example.com\nmodel_name: jukebox\n"
            f"image: quay.io/rhoai-mlops/jukebox-ui:{image}\n{extra}")


TRUSTYAI = "chart_path: charts/trustyai\n"
CANARY = "canary:\n  trafficPercent: {}\n"
T, P = "model-deployments/test", "model-deployments/prod"


@dataclass(frozen=True)
class Step:
    message: str
    files: dict[str, str | None]  # path in mlops-gitops -> new text, None: delete
    expect: list[str] = field(default_factory=list)


STEPS: list[Step] = [
    Step("ch3: ApplicationSets, environments and jukebox in test and prod (RawDeployment chart)",
         {".modeldeploy.yaml": MODELDEPLOY_YAML,
          f"{T}/jukebox/config.yaml": raw_model("test", "1a2b3c4d5e"),
          f"{P}/jukebox/config.yaml": raw_model("prod", "1a2b3c4d5e", revision="v1")},
         ["new deployments test/jukebox and prod/jukebox: InferenceService jukebox, RawDeployment, "
          "model 1a2b3c4d5e; prod's chart at v1 (transformer image 0.3), test's at main (0.4)"]),
    Step("ch3: jukebox-ui in test and prod",
         {f"{T}/jukebox-ui/config.yaml": ui("test", "simple-1.2"),
          f"{P}/jukebox-ui/config.yaml": ui("prod", "simple-1.2", revision="v0.1")},
         ["new deployments test/jukebox-ui and prod/jukebox-ui (Deployment, Service, Ingress; image "
          "jukebox-ui:simple-1.2); no name: release named after the folder"]),
    Step("ch4: TrustyAI in test and prod",
         {f"{T}/trustyai/config.yaml": TRUSTYAI, f"{P}/trustyai/config.yaml": TRUSTYAI},
         ["new deployments test/trustyai and prod/trustyai (ConfigMap, PersistentVolumeClaim, "
          "Deployment, Service); chart without values.schema.json"]),
    Step("ch6: KEDA autoscaling in test (RawDeployment chart)",
         {f"{T}/jukebox/config.yaml": raw_model("test", "1a2b3c4d5e", "keda: true\n")},
         ["test/jukebox: autoscaled by KEDA, 1 to 5 replicas; new ClusterRole and ClusterRoleBinding "
          "team-a-test-jukebox-keda-metrics"]),
    Step("ch6 as written today: canary at 20% on the RawDeployment chart",
         {f"{T}/jukebox/config.yaml": raw_model("test", "1a2b3c4d5e", "keda: true\n" + CANARY.format(20))},
         ["test/jukebox: the config changed, nothing rendered did: the chart has no canary (no "
          "'canary traffic' sentence); canary.trafficPercent is flagged as not rendered"]),
    Step("ch6: this repository's chart (Serverless, canary rollouts), model 4562a17c17; UI transformer-1.6",
         {f"{T}/jukebox/config.yaml": this_chart_model("test", "4562a17c17"),
          f"{T}/jukebox-ui/config.yaml": ui("test", "transformer-1.6")},
         ["test/jukebox: chart music-transformer-raw -> music-transformer; deployment mode "
          "RawDeployment -> Serverless; model 1a2b3c4d5e -> 4562a17c17, all traffic to it at once; "
          "KEDA ClusterRole and ClusterRoleBinding removed",
          "test/jukebox-ui: Deployment image jukebox-ui:simple-1.2 -> jukebox-ui:transformer-1.6"]),
    Step("ch6: autoscaling",
         {f"{T}/jukebox/config.yaml": this_chart_model("test", "4562a17c17", "autoscaling: true\n")},
         ["test/jukebox: predictor and transformer scale 1 to 5 replicas (Knative target 1); "
          "traffic split unchanged"]),
    Step("ch6: model 7c0ffee123 as a canary at 20%",
         {f"{T}/jukebox/config.yaml": this_chart_model("test", "7c0ffee123",
                                                       "autoscaling: true\n" + CANARY.format(20))},
         ["test/jukebox: model 4562a17c17 -> 7c0ffee123 receives 20% of traffic, 80% stays on the "
          "previous revision"]),
    Step("ch6: canary at 50%",
         {f"{T}/jukebox/config.yaml": this_chart_model("test", "7c0ffee123",
                                                       "autoscaling: true\n" + CANARY.format(50))},
         ["test/jukebox: canary traffic 20% -> 50%"]),
    Step("ch6: rollback, canary at 0%",
         {f"{T}/jukebox/config.yaml": this_chart_model("test", "7c0ffee123",
                                                       "autoscaling: true\n" + CANARY.format(0))},
         ["test/jukebox: rollback, all traffic returns to the previous revision (canary 50% -> 0%)"]),
    Step("ch6: blue/green cut-over, canary at 100%",
         {f"{T}/jukebox/config.yaml": this_chart_model("test", "7c0ffee123",
                                                       "autoscaling: true\n" + CANARY.format(100))},
         ["test/jukebox: canary traffic 0% -> 100%, all traffic to the latest revision"]),
    Step("ch6: promote, canary removed",
         {f"{T}/jukebox/config.yaml": this_chart_model("test", "7c0ffee123", "autoscaling: true\n")},
         ["test/jukebox: the latest revision is promoted (canaryTrafficPercent removed)"]),
    Step("ch7: Feast variant of the model chart; UI feast-1.4 searching by default",
         {f"{T}/jukebox/config.yaml": feast_model("test", "7c0ffee123", "autoscaling: true\n"),
          f"{T}/jukebox-ui/config.yaml": ui("test", "feast-1.4", "search_as_default: true\n")},
         ["test/jukebox: chart music-transformer -> music-transformer-with-feast; deployment mode "
          "Serverless -> RawDeployment; the transformer reads features from Feast; autoscaling is "
          "not read by this chart (1 replica)",
          "test/jukebox-ui: image transformer-1.6 -> feast-1.4, FEATURE_SEARCH_AS_DEFAULT false -> true"]),
    Step("prod release: model 7c0ffee123 on this repository's chart",
         {f"{P}/jukebox/config.yaml": this_chart_model("prod", "7c0ffee123", "autoscaling: true\n")},
         ["prod/jukebox: chart music-transformer-raw@v1 -> music-transformer@main; deployment mode "
          "RawDeployment -> Serverless; model 1a2b3c4d5e -> 7c0ffee123, all traffic to it at once"]),
    Step("prod: UI chart v0.1 -> main, feast-1.4 searching by default",
         {f"{P}/jukebox-ui/config.yaml": ui("prod", "feast-1.4", "search_as_default: true\n",
                                            revision="main")},
         ["prod/jukebox-ui: chart revision v0.1 -> main (new env var FEATURE_SEARCH_AS_DEFAULT, "
          "true); Deployment image simple-1.2 -> feast-1.4"]),
    Step("prod: release rolled back to model 1a2b3c4d5e",
         {f"{P}/jukebox/config.yaml": this_chart_model("prod", "1a2b3c4d5e", "autoscaling: true\n")},
         ["prod/jukebox: model 7c0ffee123 -> 1a2b3c4d5e, all traffic to it at once (no canary)"]),
    Step("prod: TrustyAI removed",
         {f"{P}/trustyai/config.yaml": None},
         ["prod/trustyai removed: ConfigMap, PersistentVolumeClaim, Deployment and Service go"]),
]


class GitRepo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.commits = 0
        path.mkdir(parents=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str) -> str:
        # No user or system config (hooks, signing, autocrlf), fixed identity and dates.
        date = f"@{FIRST_DATE + 3600 * self.commits} +0000"
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
               "GIT_AUTHOR_NAME": "Workshop User", "GIT_AUTHOR_EMAIL": "user@example.com",
               "GIT_COMMITTER_NAME": "Workshop User", "GIT_COMMITTER_EMAIL": "user@example.com",
               "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        done = subprocess.run(["git", *args], cwd=self.path, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"git {' '.join(args)} failed in {self.path}: {done.stderr.strip()}")
        return done.stdout.strip()

    def commit(self, message: str, tag: str | None = None) -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        self.commits += 1
        if tag:
            self.git("tag", tag)
        return self.git("rev-parse", "HEAD")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())


def replace_once(path: Path, old: str, new: str) -> None:
    """Edit a fixture file for an older or newer revision; fails loudly if the fixture moved on."""
    text = path.read_text()
    if text.count(old) != 1:
        raise SystemExit(f"{path}: expected exactly one {old!r}; update build_history.py with the fixture")
    path.write_text(text.replace(old, new))


def build_helmcharts(dest: Path, model_chart: Path) -> None:
    repo = GitRepo(dest)
    shutil.copytree(HERE / "mlops-helmcharts" / "charts", dest / "charts")
    shutil.copytree(model_chart, dest / "charts" / "model-deployment" / "music-transformer")
    raw_template = dest / "charts/model-deployment/music-transformer-raw/templates/inferenceservice.yaml"
    repo.commit("charts of the workshop", tag="v1")
    replace_once(raw_template, "music_transformer:0.3", "music_transformer:0.4")
    repo.commit("music-transformer-raw: transformer image 0.3 -> 0.4")


def build_ui(dest: Path) -> None:
    repo = GitRepo(dest)
    shutil.copytree(HERE / "jukebox-ui" / "chart", dest / "chart")
    chart = dest / "chart"
    newest = {p: p.read_bytes() for p in chart.rglob("*") if p.is_file()}
    # v0.1: the chart before the feature-store chapter, without search_as_default.
    replace_once(chart / "values.yaml", "search_as_default: false\n", "")
    replace_once(chart / "templates/deployment.yaml",
                 "            - name: FEATURE_SEARCH_AS_DEFAULT\n"
                 "              value: {{ .Values.search_as_default | toString | quote }}\n", "")
    replace_once(chart / "values.schema.json",
                 '    "search_as_default": {\n'
                 '      "description": "Open the search view first (the Feast chapter\'s UI).",\n'
                 '      "type": "boolean"\n'
                 '    },\n', "")
    json.loads((chart / "values.schema.json").read_text())  # still JSON
    replace_once(chart / "Chart.yaml", "version: 0.2.0", "version: 0.1.0")
    repo.commit("UI chart", tag="v0.1")
    for path, data in newest.items():
        path.write_bytes(data)
    repo.commit("search as default (feature-store chapter)")


def build_gitops(dest: Path) -> list[tuple[str, str, Step]]:
    repo = GitRepo(dest)
    for name in FIXTURE_GITOPS_FILES:
        write(dest / name, (HERE / "mlops-gitops" / name).read_text())
    made = []
    for number, step in enumerate(STEPS, 1):
        for name, text in step.files.items():
            if text is None:
                (dest / name).unlink()
            else:
                write(dest / name, text)
        tag = f"step-{number:02d}"
        made.append((tag, repo.commit(step.message, tag=tag), step))
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="folder to create (absent or empty)")
    parser.add_argument("--model-chart", type=Path, default=DEFAULT_MODEL_CHART,
                        help="this repository's chart, copied into mlops-helmcharts (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.dest.exists() and (not args.dest.is_dir() or any(args.dest.iterdir())):
        parser.error(f"{args.dest} exists and is not an empty folder")
    if not (args.model_chart / "Chart.yaml").is_file():
        parser.error(f"--model-chart {args.model_chart}: no Chart.yaml there")
    if shutil.which("git") is None:
        parser.error("git is not on PATH")
    args.dest.mkdir(parents=True, exist_ok=True)
    build_helmcharts(args.dest / "mlops-helmcharts", args.model_chart)
    build_ui(args.dest / "jukebox-ui")
    for tag, commit, step in build_gitops(args.dest / "mlops-gitops"):
        print(f"{tag} {commit[:12]} {step.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
