"""The whole documented range: moves on 0001-01-01 and 9999-12-31, with offsets, on every
command and format, the HTML report's charts included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner, Result

from scripts.cli import app as cli
from web.app import create_app

EDGE_LEDGER = (
    ["parties", "add", "INC"], ["parties", "add", "SP"],
    ["open", "early", "--title", "E", "--region", "R", "--seats", "10", "--parties", "INC,SP",
     "--on", "0001-01-01T00:00+00:00"],
    ["propose", "early", "--by", "INC", "--split", "INC=6,SP=4", "--on", "0001-01-01T05:00+05:00",
     "--id", "early-offer"],
    ["open", "far", "--title", "F", "--region", "R", "--seats", "10", "--parties", "INC,SP",
     "--on", "9999-12-30"],
    ["propose", "far", "--by", "INC", "--split", "INC=6,SP=4", "--on", "9999-12-31"],
    ["agree", "far", "--split", "INC=6,SP=4", "--on", "9999-12-31T23:59:59-00:00"],
    ["propose", "far", "--by", "SP", "--split", "INC=5,SP=5", "--on", "9999-12-31T23:59+14:00",
     "--id", "far-late"],
    ["correct", "early-offer", "--on", "0001-01-01", "--split", "INC=7,SP=3"],
)  # fmt: skip
EDGES = ("0001-01-01", "0001-01-01T00:00+00:00", "9999-12-31", "9999-12-31T23:59:59+00:00",
         "9999-12-31T23:00-00:59", "0001-01-01T23:59+23:59")  # fmt: skip


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", url, *args])


@pytest.fixture
def url(db_url: str) -> str:
    """Talks opened on the first instant of year 1, and talks agreed on the last of 9999."""
    for args in EDGE_LEDGER:
        result = run(db_url, *args)
        assert result.exit_code == 0, (args, result.output)
    return db_url


def test_every_read_answers_when_dates_are_at_the_edges_of_the_range(url: str) -> None:
    for when in EDGES:
        for args in (
            ["split", "far", "--as-of", when], ["split", "early", "--known-on", when],
            ["splits", "--as-of", when, "-f", "csv"], ["splits", "--as-of", when, "-f", "json"],
            ["rollup", "--as-of", when], ["rollup", "--known-on", when, "-f", "json"],
            ["history", "--as-of", when], ["history", "far", "--known-on", when, "-f", "json"],
            ["history", "early", "--as-of", when, "-f", "markdown"],
            ["replay", "--as-of", when], ["replay", "--view", "rollup", "--as-of", when],
            ["report", "--all", "--as-of", when, "-f", "markdown", "-o", "-"],
            ["report", "--all", "--known-on", when, "-f", "json", "-o", "-"],
            ["report", "--all", "--as-of", when, "-f", "html", "-o", "-"],
            ["report", "far", "--as-of", when, "-f", "html", "-o", "-"],
            ["report", "early", "--known-on", when, "-f", "html", "-o", "-"],
            ["report", "far", "--as-of", when, "-f", "markdown", "-o", "-"],
            ["report", "early", "--as-of", when, "-f", "json", "-o", "-"],
            ["report", "--all", "--diff-from", "0001-01-01", "--as-of", when, "-o", "-"],
            ["report", "far", "--diff-from", when, "-f", "markdown", "-o", "-"],
            ["diff", "--from", "0001-01-01", "--to", when], ["diff", "--from", when, "-f", "json"],
            ["diff", "--from", "0001-01-01", "--known-on", when, "-n", "far", "-f", "csv"],
        ):  # fmt: skip
            result = run(url, *args)
            # `split` of talks not yet opened, or not yet recorded, on that date; a diff
            # whose --from is after its --to
            refused = result.exit_code == 2 and (
                "had not opened" in result.stderr
                or "as known on" in result.stderr
                or "is after" in result.stderr
            )
            assert result.exit_code == 0 or refused, (args, result.output[-1500:])


def test_every_served_page_answers_when_dates_are_at_the_edges_of_the_range(url: str) -> None:
    with TestClient(create_app(url)) as client:
        for when in EDGES:
            for path in (
                "/", "/n/far", "/n/early", f"/?as_of={when}", f"/index.json?known_on={when}",
                f"/n/far?as_of={when}", f"/n/early.json?as_of={when}",
                f"/diff?from=0001-01-01&to={when}", f"/diff.json?from={when}",
            ):  # fmt: skip
                page = client.get(path.replace("+", "%2B"))
                # 404: talks not opened (or not known) then; 400: a diff from after its end
                assert page.status_code in (200, 400, 404), (path, page.text[-1500:])
                assert page.status_code == 200 or "error" in page.text, path


def test_edge_answers_are_exact_when_moves_sit_on_the_first_and_last_days(url: str) -> None:
    far = json.loads(run(url, "split", "far", "--as-of", "9999-12-31", "-f", "json").stdout)
    assert (far["status"], far["split"]) == ("agreed", {"INC": 6, "SP": 4})
    before = json.loads(run(url, "split", "far", "--as-of", "9999-12-30", "-f", "json").stdout)
    assert before["status"] == "opened"
    early = json.loads(run(url, "split", "early", "--as-of", "0001-01-01", "-f", "json").stdout)
    assert (early["by"], early["split"]) == ("INC", {"INC": 7, "SP": 3})
    history = json.loads(run(url, "history", "far", "-f", "json").stdout)
    assert {m["id"]: m["on"] for m in history}["far-late"] == "9999-12-31T23:59:00+14:00"


def test_export_imports_back_to_the_same_views_when_dates_are_at_the_edges(
    url: str, tmp_path: Path
) -> None:
    path = tmp_path / "edges.yaml"
    assert run(url, "export", "-o", str(path)).exit_code == 0
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    assert run(copy, "import", str(path)).exit_code == 0
    for when in ("0001-01-01", "9999-12-31"):
        mine = run(url, "splits", "--as-of", when, "-f", "json").stdout
        theirs = run(copy, "splits", "--as-of", when, "-f", "json").stdout
        assert _views(mine) == _views(theirs)


def test_an_instant_outside_the_range_in_utc_is_refused_with_exit_2(url: str) -> None:
    result = run(url, "split", "far", "--known-on", "9999-12-31T23:59:59-12:00")
    assert result.exit_code == 2 and "out of range" in result.stderr


def _views(text: str) -> list[dict[str, object]]:
    return [{k: v for k, v in view.items() if k != "known_on"} for view in json.loads(text)]
