"""`ebami -o github prune`: a dry run says what would go (`would-delete`), never `deleted`; a
real run names what went."""

from __future__ import annotations

from ebami.cli.lifecycle_views import prune_plan_view, prune_result_view
from ebami.lifecycle.deletion import Deleted, PruneResult
from ebami.lifecycle.prune import prune_plan
from tests.fakes.prune import ami, choose, estate, id_of


def test_a_dry_run_names_what_would_go_and_deletes_nothing() -> None:
    selection = choose(
        estate(ami(1, 30, bake="a", verified=True), ami(2, 1, bake="b", verified=True))
    )
    view = prune_plan_view(prune_plan(selection, ["us-east-1"]), selection)
    assert view.outputs == {
        "dry-run": "true",
        "would-delete": id_of(1),
        "would-delete-count": "1",
        "deleted": "",
        "deleted-count": "0",
    }
    assert "dry run: nothing deleted" in view.summary


def test_a_real_run_names_what_went() -> None:
    selection = choose(
        estate(ami(1, 30, bake="a", verified=True), ami(2, 1, bake="b", verified=True))
    )
    result = PruneResult(selection, deleted=[Deleted("us-east-1", id_of(1), ())])
    view = prune_result_view(result)
    assert view.outputs == {"dry-run": "false", "deleted": id_of(1), "deleted-count": "1"}
