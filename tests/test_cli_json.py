"""`--json`: one JSON document on standard output for scripts, for results and for errors alike.

What each document must say is read from the files and the store independently of the command's own
summary (line numbers from the edited file, quad counts from the store).
"""

from __future__ import annotations

import json
from pathlib import Path

import allygraph
from conftest import copy_mini, edit, line_of


def _doc(stdout: str) -> dict[str, object]:
    return json.loads(stdout)  # the whole of stdout is one document


def test_init_then_build_report_json(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "mine"
    done = cli("init", project, "--json")
    assert done.code == 0
    created = _doc(done.stdout)["created"]
    assert created and all(Path(str(p)).exists() for p in created)  # type: ignore[union-attr]
    assert str(project / "allygraph.toml") in created  # type: ignore[operator]

    done = cli("build", "--project", project, "--json", "--quiet")
    assert done.code == 0
    doc = _doc(done.stdout)
    assert doc["ok"] is True and doc["conforms"] is True
    store = allygraph.open_store(project / "build")
    assert doc["quads"] == len(store)
    assert doc["graphs"] == sum(1 for _ in store.named_graphs())
    assert set(doc["seconds"]) >= {"read", "compile", "validate", "store", "reason", "export"}  # type: ignore[arg-type]
    assert all(Path(str(p)).exists() for p in doc["exports"])  # type: ignore[union-attr]

    done = cli("report", "--project", project, "--json", "--quiet")
    assert done.code == 0 and Path(str(_doc(done.stdout)["report"])).is_file()


def test_an_input_error_is_a_json_document_with_file_and_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = copy_mini(tmp_path / "mini")
    line = edit(root / "claims" / "alpha.yaml", "sylvania, directedAgainst,", "sylvania, directedAganst,")
    done = cli("build", "--project", root, "--out", tmp_path / "out", "--json", "--quiet")
    assert done.code == 2
    doc = _doc(done.stdout)
    assert doc["ok"] is False and doc["exit_code"] == 2 and doc["error"] == "InputErrors"
    (problem,) = doc["problems"]  # type: ignore[misc]
    assert problem["file"].endswith("claims/alpha.yaml") and problem["line"] == line
    assert "directedAganst" in problem["message"]
    assert "problem(s) in the input" in done.stderr  # the text stays on stderr
    assert not (tmp_path / "out" / "store").exists()


def test_validate_json_lists_each_violation_located(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = copy_mini(tmp_path / "mini")
    edit(root / "entities.yaml", "hasParticipant: [freedonia, sylvania]", "hasParticipant: [freedonia, freedonia]")
    entity_line = line_of(root / "entities.yaml", "freedonia-sylvania:\n")
    done = cli("validate", "--project", root, "--json", "--quiet")
    assert done.code == 1
    doc = _doc(done.stdout)
    assert doc["ok"] is False and doc["conforms"] is False
    (violation,) = doc["violations"]  # type: ignore[misc]
    assert violation["focus"] == "https://w3id.org/allygraph/id/freedonia-sylvania"
    assert violation["file"] == "entities.yaml"
    assert violation["line"] == entity_line
    assert "two distinct participants" in violation["message"]


def test_a_failed_build_json_carries_the_violations(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = copy_mini(tmp_path / "mini")
    edit(root / "entities.yaml", "hasParticipant: [freedonia, sylvania]", "hasParticipant: [freedonia, freedonia]")
    done = cli("build", "--project", root, "--out", tmp_path / "out", "--json", "--quiet")
    assert done.code == 1
    doc = _doc(done.stdout)
    assert doc["error"] == "ValidationFailed"
    assert [v["shape"] for v in doc["violations"]] == ["ags:RelationshipShape"]  # type: ignore[union-attr]


def test_without_json_stdout_is_text(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = copy_mini(tmp_path / "mini")
    done = cli("validate", "--project", root, "--quiet")
    assert done.code == 0 and done.stdout.startswith("conforms")
