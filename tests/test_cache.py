"""The on-disk cache of parsed definitions and compiled queries (cache.py): a hit gives what a miss
computes, an edited file or another cache folder is a miss, and an entry that cannot be trusted or read
is computed again."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from allygraph import cache, definitions
from allygraph.definitions import core_files
from allygraph.sparqlengine import SparqlEngine
from conftest import MINE


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ALLYGRAPH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _load(files: tuple[Path, ...]) -> definitions.DefinitionSet:
    return definitions._load.__wrapped__(files)  # type: ignore[attr-defined]  # past the in-process cache


def _texts(definition_set: definitions.DefinitionSet) -> list[str]:
    SparqlEngine._cache.clear()
    return [q.text for c in SparqlEngine().queries(definition_set) for q in (c.pos, c.neg, c.neg_closed) if q]


def test_a_hit_gives_what_a_miss_computed(folder: Path) -> None:
    files = tuple(core_files())
    first = _load(files)
    assert "graph" in first.__dict__  # parsed on the miss
    compiled = _texts(first)
    assert len(list(folder.iterdir())) == 2  # the definitions and the compiled queries
    second = _load(files)
    assert "graph" not in second.__dict__  # from the cache: nothing parsed
    assert second.definitions == first.definitions
    assert _texts(second) == compiled
    assert len(second.graph) == len(first.graph)  # parsed when asked for


def test_an_edited_definition_file_is_a_miss(folder: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.ttl"
    mine.write_text(MINE, encoding="utf-8")
    files = (*core_files(), mine)
    before = _load(files)
    assert before.definitions["mine"].label == "my alliance"
    mine.write_text(MINE.replace('"my alliance"', '"my edited alliance"'), encoding="utf-8")
    after = _load(files)
    assert after.key != before.key and "graph" in after.__dict__  # a miss: parsed again
    assert after.definitions["mine"].label == "my edited alliance"


def test_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLYGRAPH_CACHE", "off")
    calls = []
    assert cache.cached("k", lambda: calls.append(1) or 7) == 7
    assert cache.cached("k", lambda: calls.append(1) or 7) == 7
    assert calls == [1, 1]
    assert cache.cache_dir() is None


def test_unreadable_or_untrusted_entries_are_computed_again(folder: Path) -> None:
    assert cache.cached("k", lambda: 1) == 1
    entry = folder / "k.pickle"
    assert cache.cached("k", lambda: 2) == 1  # a hit
    entry.write_bytes(b"not a pickle")
    assert cache.cached("k", lambda: 3) == 3  # unreadable: computed and written again
    assert pickle.loads(entry.read_bytes()) == 3
    os.chmod(entry, 0o666)
    assert cache.cached("k", lambda: 4) == 4  # writable by others: not trusted
    assert not [p for p in folder.iterdir() if p.suffix == ".tmp"]


def test_a_folder_that_cannot_be_written_costs_only_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("ALLYGRAPH_CACHE", str(blocker / "cache"))
    assert cache.cached("k", lambda: 5) == 5


def test_the_folder_keeps_only_the_most_recent_entries(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "KEEP", 3)
    for i in range(5):
        assert cache.cached(f"k{i}", lambda i=i: i) == i
        os.utime(folder / f"k{i}.pickle", ns=(i * 10**9, i * 10**9))  # distinct times, oldest first
    cache.cached("k5", lambda: 5)
    assert sorted(p.name for p in folder.iterdir()) == ["k3.pickle", "k4.pickle", "k5.pickle"]
