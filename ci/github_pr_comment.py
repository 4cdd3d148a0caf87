"""Post or update ONE pull-request comment with the modeldeploy diff (run by action.yml).

The comment is found by its first line, the hidden marker `<!-- modeldeploy-diff -->`,
among ALL the pull request's comments (pages of 100, following the Link header's
rel="next"), then updated in place (skipped when the text is the same) or created. Only
the GitHub REST API's issue-comment endpoints (a pull request is an issue), only the
standard library: no third-party action and no token anywhere else.

Pull requests from forks get a read-only token: the comment is skipped with a notice
(the diff is in the job summary) and exit 0, so the check passes or fails on the configs
alone. A token that cannot write (no `pull-requests: write`) gets a warning naming the fix.

Environment: GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name), PR_NUMBER, COMMENT_FILE,
HEAD_REPOSITORY (the pull request head's owner/name), GITHUB_API_URL (default
https://api.github.com). Exit 0: created, updated, unchanged or skipped; 1: the API failed.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.request
from typing import Any

MARKER = "<!-- modeldeploy-diff -->"  # modeldeploy.report.diff.COMMENT_MARKER
MAX_PAGES = 100  # 10,000 comments: far beyond any pull request, but bounded
TIMEOUT_SECONDS = 30
NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


class ApiError(Exception):
    def __init__(self, method: str, url: str, status: int, detail: str) -> None:
        super().__init__(f"{method} {url}: HTTP {status} {detail}".strip())
        self.status = status


def _command(kind: str, message: str) -> str:
    """A workflow command (::notice:: / ::warning::), escaped as the runner expects."""
    data = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{kind} title=modeldeploy::{data}"


def _error_message(body: bytes) -> str:
    """GitHub's `message` from an error reply, else the start of the reply."""
    text = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return str(parsed.get("message", "")) if isinstance(parsed, dict) else text[:300]


class GitHub:
    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                        "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "modeldeploy-action"}

    def call(self, method: str, url: str, payload: dict[str, Any] | None = None) -> tuple[Any, str | None]:
        """(decoded JSON, the next page's URL or None)."""
        if not url.startswith("http"):
            url = self.api_url + url
        data = json.dumps(payload).encode() if payload is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data else {})}
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as reply:
                body = reply.read()
                link = NEXT_LINK.search(reply.headers.get("Link") or "")
        except urllib.error.HTTPError as exc:
            raise ApiError(method, url, exc.code, _error_message(exc.read())) from exc
        except (urllib.error.URLError, TimeoutError) as exc:
            raise ApiError(method, url, 0, str(getattr(exc, "reason", exc))) from exc
        return (json.loads(body) if body else None), (link.group(1) if link else None)

    def find_comment(self, repository: str, number: str) -> dict[str, Any] | None:
        url: str | None = f"/repos/{repository}/issues/{number}/comments?per_page=100"
        for _ in range(MAX_PAGES):
            if url is None:
                return None
            page, url = self.call("GET", url)
            for comment in page:
                if str(comment.get("body", "")).startswith(MARKER):
                    found: dict[str, Any] = comment
                    return found
        return None


def post_or_update(env: dict[str, str]) -> str:
    """What happened, in one line (the comment's URL when there is one)."""
    repository, number = env["GITHUB_REPOSITORY"], env["PR_NUMBER"]
    head = env.get("HEAD_REPOSITORY", "")
    if head and head != repository:
        return _command("notice", f"pull request from the fork {head}: its token is read-only, so the "
                                  "diff comment is skipped; the diff is in the job summary")
    with open(env["COMMENT_FILE"], encoding="utf-8") as handle:
        body = handle.read()
    if not body.startswith(MARKER):  # a body without the marker could never be found again
        body = f"{MARKER}\n{body}"
    github = GitHub(env.get("GITHUB_API_URL") or "https://api.github.com", env["GITHUB_TOKEN"])
    existing = github.find_comment(repository, number)
    if existing is None:
        created, _ = github.call("POST", f"/repos/{repository}/issues/{number}/comments", {"body": body})
        return f"created {created.get('html_url', 'the comment')}"
    if existing.get("body") == body:
        return f"unchanged {existing.get('html_url', 'comment')}"
    updated, _ = github.call("PATCH", f"/repos/{repository}/issues/comments/{existing['id']}", {"body": body})
    return f"updated {updated.get('html_url', 'the comment')}"


def main() -> int:
    try:
        print(post_or_update(dict(os.environ)))
    except ApiError as exc:
        hint = (" The job's token cannot write pull-request comments: give the workflow "
                "`permissions: pull-requests: write`, or set the action's comment input to false."
                if exc.status in (401, 403, 404) else "")
        print(_command("warning", f"the diff comment was not posted: {exc}.{hint}"))
        return 1
    except (KeyError, OSError) as exc:
        print(_command("warning", f"the diff comment was not posted: {exc!r}"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
