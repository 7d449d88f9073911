"""The validation files ship as package data (calibration/validation/): an installed dermsim reads
the same pre-registration and ladder as a source checkout. In a source checkout, the package copies
must equal the repository's committed ``validation/`` files byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from dermsim.calibration import validate as v

REPO_VALIDATION = Path(__file__).resolve().parents[3] / "validation"


def test_package_data_paths_exist() -> None:
    assert v.default_prereg_path().is_file()
    csv = v.default_validation_csv()
    assert csv is not None and csv.is_file() and csv.is_relative_to(v.VALIDATION_DATA)


@pytest.mark.skipif(not REPO_VALIDATION.is_dir(), reason="not a source checkout: no validation/ folder")
@pytest.mark.parametrize("rel", ["preregistered/true-ad3.csv",
                                 "results/adult-trials-1-s20261125/validation.csv",
                                 "results/v2-s20261203/children_pk.csv",
                                 "results/v2-s20261203/comparison.csv",
                                 "results/v2-s20261203/summary.md"])
def test_package_copies_equal_the_repository_files(rel: str) -> None:
    assert (v.VALIDATION_DATA / rel).read_bytes() == (REPO_VALIDATION / rel).read_bytes()


def test_every_repository_csv_is_shipped() -> None:
    if not REPO_VALIDATION.is_dir():
        pytest.skip("not a source checkout")
    repo = {p.relative_to(REPO_VALIDATION).as_posix() for p in REPO_VALIDATION.glob("**/*.csv")}
    pkg = {p.relative_to(v.VALIDATION_DATA).as_posix() for p in v.VALIDATION_DATA.glob("**/*.csv")}
    assert repo == pkg
