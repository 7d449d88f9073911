"""Mutated valid files through the readers (hypothesis): a valid result or one clean dermsim error,
never a crash (any other exception) or a silent partial read (fewer rows than the file held)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermsim.errors import DermsimError

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@st.composite
def mutation(draw: st.DrawFn, size: int) -> tuple[str, int, int, bytes]:
    """(kind, position, length, bytes): flip, cut, insert or delete somewhere in a file."""
    kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "zero"]))
    pos = draw(st.integers(0, max(size - 1, 0)))
    n = draw(st.integers(1, 64))
    data = draw(st.binary(min_size=1, max_size=16))
    return kind, pos, n, data


def mutate(raw: bytes, m: tuple[str, int, int, bytes]) -> bytes:
    kind, pos, n, data = m
    if kind == "flip":
        b = bytearray(raw)
        for i, x in enumerate(data):
            if pos + i < len(b):
                b[pos + i] ^= x or 0xFF
        return bytes(b)
    if kind == "cut":
        return raw[:pos]
    if kind == "insert":
        return raw[:pos] + data + raw[pos:]
    if kind == "zero":
        return raw[:pos] + b"\x00" * n + raw[pos + n:]
    return raw[:pos] + raw[pos + n:]


def _read_or_clean_error(reader, path: Path):
    try:
        return reader(path)
    except DermsimError as exc:
        text = str(exc)
        assert text and "\n" not in text.strip(), text
        return None


@pytest.fixture(scope="module")
def originals(valid_trial: Path) -> dict[str, bytes]:
    adam = valid_trial / "adam"
    return {n: (adam / n).read_bytes() for n in ("adsl.xpt", "adsl.json", "adae.xpt")}


@FUZZ
@given(m=mutation(size=20_000))
def test_xpt_mutations(m, originals, tmp_path_factory) -> None:
    from dermsim.io import read_xpt

    raw = originals["adsl.xpt"]
    n_rows = len(read_xpt_bytes(raw, tmp_path_factory))
    path = tmp_path_factory.mktemp("x") / "adsl.xpt"
    path.write_bytes(mutate(raw, m))
    ds = _read_or_clean_error(read_xpt, path)
    if ds is not None and m[0] == "cut":
        # a cut file read without error must not have lost rows silently
        assert len(ds.data) == n_rows, (m[1], len(ds.data), n_rows)


def read_xpt_bytes(raw: bytes, factory) -> object:
    from dermsim.io import read_xpt

    p = factory.mktemp("orig") / "adsl.xpt"
    p.write_bytes(raw)
    return read_xpt(p).data


@FUZZ
@given(m=mutation(size=60_000))
def test_dataset_json_mutations(m, originals, tmp_path_factory) -> None:
    from dermsim.io import read_dataset_json

    raw = originals["adsl.json"]
    n_rows = json.loads(raw)["records"]
    path = tmp_path_factory.mktemp("j") / "adsl.json"
    path.write_bytes(mutate(raw, m))
    ds = _read_or_clean_error(read_dataset_json, path)
    if ds is not None:
        # Dataset-JSON carries its record count: a read never returns fewer rows than it says
        assert len(ds.data) == json.loads(path.read_bytes())["records"]
        assert m[0] != "cut" or len(ds.data) == n_rows


@FUZZ
@given(m=mutation(size=4_000))
def test_csv_mutations(m, valid_csv, tmp_path_factory) -> None:
    from dermsim.io import read_csv

    raw = (valid_csv / "adsl.csv").read_bytes()
    path = tmp_path_factory.mktemp("c") / "adsl.csv"
    path.write_bytes(mutate(raw, m))
    _read_or_clean_error(read_csv, path)


def _design_toml() -> tuple[bytes, object]:
    from importlib import resources

    from dermsim.trial import load_design

    return resources.files("dermsim.trial").joinpath("data/scenarios/true-ad3.toml").read_bytes(), load_design


def _plan_toml() -> tuple[bytes, object]:
    from dermsim.analysis.plan import default_plan_path, load_plan

    return Path(default_plan_path()).read_bytes(), load_plan


@pytest.mark.parametrize("source", [_design_toml, _plan_toml], ids=["design", "plan"])
@FUZZ
@given(m=mutation(size=4_000))
def test_toml_mutations(source, m, tmp_path_factory) -> None:
    raw, loader = source()
    path = tmp_path_factory.mktemp("t") / "spec.toml"
    path.write_bytes(mutate(raw, m))
    _read_or_clean_error(loader, path)
