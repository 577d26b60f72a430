"""The version `ivr-test --version` prints: the installed distribution's, else pyproject.toml's."""
import tomllib
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "ivr-test"


def version():
    """From package metadata when installed; in a bare checkout, from its pyproject.toml."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    try:
        with open(Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as file:
            return tomllib.load(file)["project"]["version"] + "+checkout"
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"
