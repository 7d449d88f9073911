"""dermsim: virtual patients, virtual trials and analysis for topical therapy in atopic dermatitis."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dermsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
