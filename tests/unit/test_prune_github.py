"""`ebami -o github prune`: a dry run says what would go (`would-delete`), never `deleted`; a
real run names what went."""

from __future__ import annotations

import io
from pathlib import Path

from ebami.cli.github import GithubOutputs
from ebami.cli.prune import _github
from ebami.lifecycle.deletion import PruneResult
from tests.fakes.prune import ami, choose, estate, id_of


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def github(tmp_path: Path) -> tuple[GithubOutputs, Path]:
    found = tmp_path / "output"
    environ = {"GITHUB_OUTPUT": str(found), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    return GithubOutputs(environ, stdout=io.StringIO()), found


def test_a_dry_run_names_what_would_go_and_deletes_nothing(tmp_path: Path) -> None:
    selection = choose(
        estate(ami(1, 30, bake="a", verified=True), ami(2, 1, bake="b", verified=True))
    )
    target, found = github(tmp_path)
    _github(target, selection, [item.image.image_id for item in selection.deleted])
    assert outputs(found) == {
        "dry-run": "true",
        "would-delete": id_of(1),
        "would-delete-count": "1",
        "deleted": "",
        "deleted-count": "0",
    }
    assert "dry run: nothing deleted" in (tmp_path / "summary").read_text()


def test_a_real_run_names_what_went(tmp_path: Path) -> None:
    selection = choose(
        estate(ami(1, 30, bake="a", verified=True), ami(2, 1, bake="b", verified=True))
    )
    target, found = github(tmp_path)
    _github(target, selection, [id_of(1)], PruneResult(selection))
    assert outputs(found) == {"dry-run": "false", "deleted": id_of(1), "deleted-count": "1"}
