"""Only a build step pyproject.toml cannot express: ship the sample under `app/sample/`.

The sample suites, flow and bot live at the project root (where README and users expect them);
the wheel carries a copy inside the package so `ivr-test` finds them when installed
(`app/sample.py` looks in both places).
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SAMPLE = ("testSuite", "aws-connect-contact-flows", "aws-lex-bot")


class BuildWithSample(build_py):
    def run(self):
        super().run()
        for name in SAMPLE:
            shutil.copytree(ROOT / name, Path(self.build_lib) / "app" / "sample" / name,
                            dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))


setup(cmdclass={"build_py": BuildWithSample})
