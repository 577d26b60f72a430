"""Every input is bounded: hostile files end in a clear error naming the file and the limit,
exit 2, no traceback, no hang, and the other suites still run."""
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from app import limits
from app.errors import LexError, SuiteError
from app.simulator.lex import LexBot
from app.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent
DEEP = "[" * 1000 + "]" * 1000
BIG_INT = "1" * 5000


def deep_suite(depth):
    return '{"steps": [{"expect": "hello", "then": ' + "[" * depth + "]" * depth + "}]}"


@pytest.mark.parametrize("text, limit", [
    (DEEP, "nested deeper than the limit of 128"),
    ('{"a": ' * 200 + "1" + "}" * 200, "nested deeper than the limit of 128"),
    ('{"n": %s}' % BIG_INT, "integer of 5000 digits is past the limit of 64"),
    ('{"n": -%s}' % BIG_INT, "past the limit of 64"),
])
def test_loads_refuses_past_a_limit(text, limit):
    with pytest.raises(SuiteError, match=limit):
        limits.loads(text, "x.json", SuiteError)


def test_loads_keeps_what_is_within_the_limits():
    text = '{"a": ' * 100 + "[12345678901234567890, 1.5e300]" + "}" * 100
    data = limits.loads(text, "x.json", SuiteError)
    for _ in range(100):
        data = data["a"]
    assert data == [12345678901234567890, 1.5e300]


def test_a_fifo_a_directory_and_a_huge_file_are_refused_without_reading(tmp_path, monkeypatch):
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "dir.json").mkdir()
    started = time.monotonic()
    with pytest.raises(SuiteError, match="fifo.json: is a FIFO"):
        load_suite(tmp_path / "fifo.json")
    with pytest.raises(SuiteError, match="dir.json: is a directory"):
        load_suite(tmp_path / "dir.json")
    assert time.monotonic() - started < 5
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    (tmp_path / "big.json").write_text("[" + " " * 2000 + "]")
    with pytest.raises(SuiteError, match="2,002 bytes is past the limit of 1,000 bytes"):
        load_suite(tmp_path / "big.json")


def zip_bomb(path, megabytes):
    """A zip whose one JSON entry expands ~1000 times (zeros compress that well)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("Bot.json", "w") as entry:
            for _ in range(megabytes):
                entry.write(b" " * (1 << 20))
    return path


def test_a_zip_bomb_is_refused_by_its_ratio_before_it_is_expanded(tmp_path):
    bomb = zip_bomb(tmp_path / "bomb.zip", 20)
    assert bomb.stat().st_size < 100_000
    with pytest.raises(LexError, match="Bot.json expands .* times, past the limit of 200"):
        LexBot.load(bomb)


def test_a_zip_past_the_total_or_entry_count_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(30):
            archive.writestr(f"f{i}.json", "{}" + " " * 100)
    monkeypatch.setattr(limits, "MAX_DOCUMENTS", 20)
    with pytest.raises(LexError, match="30 entries is past the limit of 20"):
        limits.read_zip(path, LexError)
    small = tmp_path / "small.zip"
    with zipfile.ZipFile(small, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(3):
            archive.writestr(f"f{i}.json", "[" + " " * 1000 + "]")
    monkeypatch.setattr(limits, "MAX_ZIP_BYTES", 2000)
    with pytest.raises(LexError, match="expands to 3,006 bytes, past the limit of 2,000"):
        limits.read_zip(small, LexError)


def test_an_entry_past_the_file_limit_is_cut_off_as_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "lies.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.json", "[" + " " * 5000 + "]")
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 4000)
    with pytest.raises(LexError, match="a.json expands past the limit of 4,000 bytes"):
        limits.read_zip(path, LexError)


# ---------------------------------------------------------------- end to end: exit 2, the rest run

def run_cli(*args):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "main.py", "run", "-q", "--no-color", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    return done, time.monotonic() - started


def test_hostile_suites_fail_alone_and_the_others_run(tmp_path):
    suites = tmp_path / "suites"
    shutil.copytree(ROOT / "testSuite", suites)
    (suites / "deep.json").write_text(deep_suite(1000))
    (suites / "bigint.json").write_text('{"steps": [{"expect": "hi", "timeout": %s}]}' % BIG_INT)
    os.mkfifo(suites / "fifo.json")
    done, _ = run_cli(str(suites), "--db", str(tmp_path / "db.json"))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    errors = sorted(line for line in done.stderr.splitlines() if line.startswith("error:"))
    assert len(errors) == 3, done.stderr
    assert "bigint.json: an integer of 5000 digits is past the limit of 64 digits" in errors[0]
    assert "deep.json: nested deeper than the limit of 128 levels" in errors[1]
    assert "fifo.json: is a FIFO, not a file" in errors[2]
    samples = len(list((ROOT / "testSuite").glob("*.json")))
    assert f"suites: {samples} passed, 0 failed" in done.stdout


@pytest.mark.parametrize("option, content, message", [
    ("--target", DEEP, "nested deeper than the limit of 128 levels"),
    ("--lambda-responses", '{"f": %s}' % BIG_INT, "past the limit of 64 digits"),
    ("--lex-bot", "bomb", "past the limit of 200 (a zip bomb?)"),
])
def test_a_hostile_flow_bot_or_lambda_file_is_a_clear_error(tmp_path, option, content, message):
    if content == "bomb":
        path = zip_bomb(tmp_path / "bot.zip", 20)
        args = ["--target", str(ROOT / "aws-connect-contact-flows" / "SalesIVR.json"), option, str(path)]
    else:
        path = tmp_path / "hostile.json"
        path.write_text(content)
        args = [option, str(path)]
    done, seconds = run_cli(str(ROOT / "testSuite" / "testSalesCall.json"), *args,
                            "--db", str(tmp_path / "db.json"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert message in done.stderr + done.stdout and str(path) in done.stderr + done.stdout
    assert seconds < 60
