"""The shared spec base: one-line load errors naming kind, file and field; copies on replace."""

from typing import Annotated, ClassVar

import pytest
from pydantic import Field

from dermsim._spec import Spec
from dermsim.errors import DataValidationError


class _Toy(Spec):
    spec_kind: ClassVar[str] = "toy spec"
    name: str
    n: Annotated[int, Field(gt=0)]


def test_round_trip_and_replace_returns_a_validated_copy():
    a = _Toy(name="a", n=3)
    b = a.replace(n=5)
    assert (a.n, b.n) == (3, 5)
    assert _Toy.from_dict(b.to_dict()) == b
    with pytest.raises(DataValidationError, match=r"^toy spec a \(replace\): field n: "):
        a.replace(n=0)


def test_toml_errors_are_one_line_naming_file_and_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nn = -1\n')
    with pytest.raises(DataValidationError) as exc:
        _Toy.from_toml(bad)
    assert str(exc.value).startswith("toy spec bad.toml: field n: ")
    assert "\n" not in str(exc.value)
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    with pytest.raises(DataValidationError, match=r"toy spec broken\.toml: not valid TOML"):
        _Toy.from_toml(broken)
    with pytest.raises(DataValidationError, match="not found"):
        _Toy.from_toml(tmp_path / "missing.toml")
    extra = tmp_path / "extra.toml"
    extra.write_text('name = "x"\nn = 1\ncolour = "red"\n')
    with pytest.raises(DataValidationError, match="field colour"):
        _Toy.from_toml(extra)
