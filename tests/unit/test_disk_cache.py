"""The disk cache: a hit gives the very numbers a fresh computation gives, a bad entry or an
unwritable folder is a miss, and the key covers the code that computes the numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dermsim import _disk_cache
from dermsim.model.population import growth, sampling
from dermsim.model.population.spec import load_population_spec

PACKAGE = Path(_disk_cache.__file__).resolve().parent


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DERMSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(sampling, "_CALIBRATIONS", {})
    return tmp_path / "cache"


def _fresh_law(monkeypatch: pytest.MonkeyPatch, spec):
    monkeypatch.setattr(sampling, "_CALIBRATIONS", {})
    return sampling.calibrate_population(spec).severity


def test_a_hit_gives_the_bits_of_the_fit_and_a_miss_fits_again(cache: Path, monkeypatch) -> None:
    spec = load_population_spec("true-ad3")
    monkeypatch.setenv("DERMSIM_CACHE_DIR", "off")
    fitted = _fresh_law(monkeypatch, spec)
    assert not cache.exists()
    monkeypatch.setenv("DERMSIM_CACHE_DIR", str(cache))
    assert _fresh_law(monkeypatch, spec) == fitted  # fitted and stored
    entries = list((cache / "severity-law").glob("*.json"))
    assert len(entries) == 1
    real_fit, calls = sampling.fit_severity_law, []
    monkeypatch.setattr(sampling, "fit_severity_law", lambda *a, **k: calls.append(1))
    assert _fresh_law(monkeypatch, spec) == fitted  # read back, the same floats, nothing fitted
    assert calls == []
    monkeypatch.setattr(sampling, "fit_severity_law", real_fit)
    bad_entries = ("{not json", "[1, 2]", json.dumps({"mu": "x", "delta": 1, "sigma": 1}),
                   json.dumps({"mu": 1}))
    for bad in bad_entries:  # a miss: fitted again and stored over the bad entry
        entries[0].write_text(bad)
        assert _fresh_law(monkeypatch, spec) == fitted
        assert json.loads(entries[0].read_text()) == {"mu": fitted.mu, "delta": fitted.delta,
                                                      "sigma": fitted.sigma}


def test_an_unwritable_folder_is_skipped(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")  # a file where the folder would be: no user can create it
    monkeypatch.setenv("DERMSIM_CACHE_DIR", str(blocker / "cache"))
    _disk_cache.store("kind", "key", {"a": 1.0})
    assert _disk_cache.load("kind", "key") is None


def test_the_folder_follows_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DERMSIM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _disk_cache.cache_dir() == tmp_path / "dermsim"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _disk_cache.cache_dir() == tmp_path / "home" / ".cache" / "dermsim"
    monkeypatch.setenv("DERMSIM_CACHE_DIR", "OFF")
    assert _disk_cache.cache_dir() is None


def test_the_key_moves_with_the_spec_and_the_code(monkeypatch) -> None:
    spec = load_population_spec("true-ad3")
    key = sampling._severity_fit_key(spec)
    assert sampling._severity_fit_key(load_population_spec("true-ad3")) == key
    other = spec.to_dict()
    other["female_pct"]["value"] = 50.0
    assert sampling._severity_fit_key(type(spec).from_dict(other)) != key
    monkeypatch.setattr(_disk_cache, "source_digest", lambda parts: "edited")
    assert sampling._severity_fit_key(spec) != key


def test_the_key_covers_every_dermsim_module_the_fit_imports() -> None:
    """An import added to the population code must be added to SEVERITY_FIT_CODE, or an edit of
    that module would leave a stale law in the cache."""
    code = ("import sys, dermsim.model.population.sampling\n"
            "print('\\n'.join(m.__file__ for n, m in sys.modules.items() if n.startswith('dermsim')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ})
    covered = [PACKAGE / p for p in sampling.SEVERITY_FIT_CODE]
    for line in done.stdout.split():
        f = Path(line).resolve()
        assert any(f == c or c in f.parents for c in covered), f"{f.relative_to(PACKAGE)} is not in the key"


def test_the_cdc_table_reads_back_the_same_numbers(cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("DERMSIM_CACHE_DIR", "off")
    ages, fetched = growth._lms_grid.__wrapped__("weight", "M")
    monkeypatch.setenv("DERMSIM_CACHE_DIR", str(cache))
    growth._lms_grid.__wrapped__("weight", "M")  # stored
    monkeypatch.setattr(growth, "_fetch_lms_grid", lambda *a: pytest.fail("fetched again"))
    got_ages, got = growth._lms_grid.__wrapped__("weight", "M")
    assert np.array_equal(got_ages, ages) and np.array_equal(got, fetched)


def test_a_second_process_samples_the_same_patients_without_the_slow_imports(tmp_path: Path) -> None:
    """What the cache is for: a process that finds the entries neither draws the severity law's
    131,072 patients nor imports rcpchgrowth (and with it scipy.stats)."""
    code = ("import sys, hashlib\n"
            "from dermsim.model.population.sampling import sample_population\n"
            "p = sample_population('true-ad3', 300, 5)\n"
            "print(hashlib.sha256(p.easi0.tobytes() + p.weight_kg.tobytes()).hexdigest(),"
            " 'rcpchgrowth' in sys.modules, 'scipy.stats' in sys.modules)")
    env = {**os.environ, "DERMSIM_CACHE_DIR": str(tmp_path / "cache")}
    first, second = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                    env=env).stdout.split() for _ in range(2))
    assert first[1:] == ["True", "True"]
    assert second == [first[0], "False", "False"]


def test_the_numeric_platform_sees_numpy_cpu_dispatch() -> None:
    """NumPy's AVX-512 and AVX2 paths round exp and log differently, so entries computed under
    NPY_DISABLE_CPU_FEATURES (the golden test's pin) must not be read without it, or the reverse."""
    code = "from dermsim._disk_cache import numeric_platform; print(numeric_platform()['cpu'])"
    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
    plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    if "X86_V3" not in plain.stdout:
        pytest.skip("not an x86-64 machine with AVX2 (nothing to switch off)")
    pinned = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**env, "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4"})
    assert plain.stdout != pinned.stdout
