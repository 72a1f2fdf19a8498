"""Writing bundles: --overwrite replaces only a bundle, the swap never loses one, damage is caught."""

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cartelsim import bundle, scenarios
from cartelsim.cli import app

from ..conftest import small_text

runner = CliRunner()


@pytest.fixture
def scen(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(small_text(1))
    return p


@pytest.fixture
def built(tmp_path, scen):
    out = tmp_path / "b"
    r = runner.invoke(app, ["run", str(scen), "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    return out


def _tree(p: Path) -> dict[str, bytes]:
    return {str(f.relative_to(p)): f.read_bytes() for f in sorted(p.rglob("*")) if f.is_file()}


def test_overwrite_refuses_a_folder_of_other_files(tmp_path, scen):
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("years of work")
    r = runner.invoke(app, ["run", str(scen), "--out", str(thesis), "--overwrite", "-q"])
    assert r.exit_code == 2, r.output
    assert "not a cartelsim bundle" in r.output and "Traceback" not in r.output
    assert _tree(thesis) == {"chapter1.tex": b"years of work"}
    assert not (tmp_path / "thesis.partial").exists()


def test_overwrite_refuses_a_plain_file(tmp_path, scen):
    f = tmp_path / "notes.txt"
    f.write_text("keep me")
    r = runner.invoke(app, ["run", str(scen), "--out", str(f), "--overwrite", "-q"])
    assert r.exit_code == 2 and "is a file" in r.output
    assert f.read_text() == "keep me"


def test_overwrite_refuses_the_working_directory_and_its_parents(tmp_path, scen, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "x").write_text("x")
    monkeypatch.chdir(work)
    for target in (".", str(tmp_path), str(work)):
        r = runner.invoke(app, ["run", str(scen), "--out", target, "--overwrite", "-q"])
        assert r.exit_code == 2, (target, r.output)
        assert "working directory" in r.output
    assert (work / "x").read_text() == "x"
    assert scen.is_file()


def test_overwrite_refuses_the_home_directory(tmp_path, scen, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path.parent)
    r = runner.invoke(app, ["run", str(scen), "--out", str(home), "--overwrite", "-q"])
    assert r.exit_code == 2 and "home directory" in r.output


def test_overwrite_refuses_the_folder_holding_the_scenario(tmp_path, monkeypatch):
    d = tmp_path / "scenarios"
    d.mkdir()
    sc = d / "s.toml"
    sc.write_text(small_text(1))
    monkeypatch.chdir(tmp_path.parent)
    r = runner.invoke(app, ["run", str(sc), "--out", str(d), "--overwrite", "-q"])
    assert r.exit_code == 2 and "holds" in r.output
    assert sc.read_text() == small_text(1)


def test_overwrite_replaces_a_bundle(built, scen):
    before = json.loads((built / "manifest.json").read_text())
    assert before["format"] == bundle.BUNDLE_FORMAT
    r = runner.invoke(app, ["run", str(scen), "--out", str(built), "--overwrite", "-q"])
    assert r.exit_code == 0, r.output
    assert bundle.is_bundle(built)
    assert not list(built.parent.glob("b.old-*")) and not (built.parent / "b.partial").exists()


@pytest.mark.parametrize("where", ["old moved aside", "new in place"])
def test_a_kill_during_the_swap_loses_neither_bundle(built, tmp_path, where, monkeypatch):
    old = _tree(built)
    new = tmp_path / "new"
    shutil.copytree(built, new)
    (new / "marker").write_text("new")

    def die(at):
        if at == where:
            raise KeyboardInterrupt  # the process stops here: nothing after it runs

    with pytest.raises(KeyboardInterrupt):
        bundle.swap(new, built, _between=die)
    # the next command that touches the bundle finishes or undoes the swap
    r = runner.invoke(app, ["compare", str(built)])
    assert r.exit_code == 0, r.output
    assert not list(tmp_path.glob("b.old-*"))
    got = _tree(built)
    if where == "old moved aside":  # the new one never arrived: the old one is back
        assert got == old
    else:
        assert got["marker"] == b"new"


def test_flipped_bytes_in_outcomes_are_caught(built):
    f = built / "outcomes.parquet"
    data = bytearray(f.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 8] = bytes(b ^ 0xFF for b in data[mid : mid + 8])
    f.write_bytes(bytes(data))
    for cmd in (["compare", str(built)], ["plot", str(built)]):
        r = runner.invoke(app, cmd)
        assert r.exit_code == 2, (cmd, r.output)
        assert "outcomes.parquet: damaged" in r.output and "Traceback" not in r.output
        assert r.output.count("\n") == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: (b / "outcomes.parquet").write_bytes((b / "outcomes.parquet").read_bytes()[:100]),
        lambda b: (b / "experiments.parquet").write_bytes(b""),
        lambda b: (b / "manifest.json").write_text('{"format": "cartelsim.bun'),
        lambda b: os.remove(b / "groups.parquet"),
    ],
    ids=["truncated", "empty", "garbled-manifest", "missing"],
)
def test_a_damaged_bundle_gets_one_message_and_exit_2(built, damage):
    damage(built)
    for cmd in (
        ["compare", str(built)],
        ["plot", str(built)],
        ["map", str(built), "--variable", "n_members", "--at", "2013-01-01"],
    ):
        r = runner.invoke(app, cmd)
        assert r.exit_code == 2, (cmd, r.output)
        assert r.output.startswith("error:") and r.output.count("\n") == 1, r.output


def test_a_bundle_without_checksums_is_read_with_a_warning(built):
    m = json.loads((built / "manifest.json").read_text())
    del m["files"]
    (built / "manifest.json").write_text(json.dumps(m))
    with pytest.warns(UserWarning, match="without checksums"):
        import cartelsim

        cartelsim.load(built)


def test_figures_replace_a_file_only_with_overwrite(built, tmp_path):
    fig = tmp_path / "fig"
    assert runner.invoke(app, ["plot", str(built), "--out", str(fig)]).exit_code == 0
    first = (fig / "n_members.png").stat().st_mtime_ns
    r = runner.invoke(app, ["plot", str(built), "--out", str(fig)])
    assert r.exit_code == 2 and "--overwrite" in r.output
    assert (fig / "n_members.png").stat().st_mtime_ns == first
    r = runner.invoke(app, ["plot", str(built), "--out", str(fig), "--overwrite"])
    assert r.exit_code == 0, r.output
    (fig / "n_members.png").unlink()
    (fig / "n_members.png").mkdir()  # a folder where a figure would go is never replaced
    r = runner.invoke(app, ["plot", str(built), "--out", str(fig), "--overwrite"])
    assert r.exit_code == 2 and "is a folder" in r.output
    assert not list(fig.glob(".*tmp*"))


def test_a_huge_run_is_refused_without_yes_and_quickly(tmp_path):
    import time

    text = scenarios.path("pc2023").read_text().replace("replicates = 1", "replicates = 1000000", 1)
    assert "replicates = 1000000" in text
    scen = tmp_path / "huge.toml"
    scen.write_text(text)
    t0 = time.perf_counter()
    r = runner.invoke(app, ["run", str(scen), "--out", str(tmp_path / "b")])
    assert time.perf_counter() - t0 < 60  # the refusal comes from a pilot, not from the run
    assert r.exit_code == 2, r.output
    assert "about 5,000,000 experiments" in r.output and "pass --yes" in r.output
    assert not list(tmp_path.glob("b*"))


def test_a_run_larger_than_the_free_disk_is_refused(tmp_path, scen, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(10**6, 10**6 - 1000, 1000))
    r = runner.invoke(app, ["run", str(scen), "--out", str(tmp_path / "b"), "-q"])
    assert r.exit_code == 2 and "GB free" in r.output
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.partial").exists()


def test_a_full_disk_stops_cleanly_and_the_run_resumes(tmp_path, monkeypatch):
    import errno

    from cartelsim import experiments

    scen = tmp_path / "s.toml"
    scen.write_text(small_text(4))
    real, calls, full = experiments.write_part, [], [False]

    def write_part(*a, **k):  # the disk fills up after the first part, until space is freed
        calls.append(1)
        full[0] = full[0] or len(calls) == 2
        if full[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*a, **k)

    monkeypatch.setattr(experiments, "write_part", write_part)
    args = ["run", str(scen), "--out", str(tmp_path / "b"), "-q", "--batch-size", "2"]
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "disk is full" in r.output and "resume" in r.output and r.output.count("\n") == 1
    assert (tmp_path / "b.partial").is_dir() and not (tmp_path / "b").exists()
    full[0] = False
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "were done before" in r.output and bundle.is_bundle(tmp_path / "b")
