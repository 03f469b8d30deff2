"""The installed povmap version, for manifests and metadata (``"0+unknown"`` in a source tree)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("povmap")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"
