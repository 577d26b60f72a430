"""A stored run (offline or live) turned into a suite: a real call becomes a regression test.

What the IVR said in each step becomes `expect`, what the caller did becomes `then`. Each step's
timeout is the one the call was placed with, raised when the transcript shows the IVR pausing
longer than that inside the step (a pause longer than the timeout would split the step). The
suite stops at the first step where nothing was heard: the call gave nothing to expect there.
"""
import re
from datetime import datetime

from app.simulator.line import speech_seconds
from app.suite import DEFAULT_TIMEOUT, MAX_TIMEOUT, parse_suite

PAUSE_MARGIN = 1.0     # seconds more than the longest pause the IVR made inside a step


def split_target(stored):
    """A run's stored target text back into (target, lexBot)."""
    match = re.fullmatch(r"(.*) \(Lex bot (.*)\)", stored or "")
    return (match.group(1), match.group(2)) if match else (stored or None, None)


def _seconds_between(start, end):
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except (TypeError, ValueError):
        return None


def ivr_pauses(doc):
    """The longest pause between two IVR utterances inside each step's window. Windows are told
    apart by when each step was judged (seconds after the call started, as the transcript's)."""
    results = doc.get("results") or []
    ends = [_seconds_between(doc.get("startTimestamp"), r.get("judgedAt")) for r in results]
    if not doc.get("transcript") or any(end is None for end in ends):
        return []
    pauses, step, last_end = [0.0] * len(results), 0, None
    for entry in doc["transcript"]:
        while step < len(ends) - 1 and entry["t"] >= ends[step]:
            step, last_end = step + 1, None
        if entry.get("party") == "caller" or entry.get("kind") != "say":
            continue
        if last_end is not None:
            pauses[step] = max(pauses[step], round(entry["t"] - last_end, 3))
        last_end = entry["t"] + speech_seconds(entry.get("text") or "")
    return pauses


def snapshot(doc):
    """The suite (as JSON) that replays run `doc`; raises ValueError when nothing was heard."""
    results, instructions = doc.get("results") or [], doc.get("instructions") or []
    pauses = ivr_pauses(doc)
    steps = []
    for index, result in enumerate(results):
        heard = result.get("actualResult")
        if not heard:
            break
        written = instructions[index] if index < len(instructions) and isinstance(instructions[index], dict) else {}
        then = result.get("action") if result.get("status") == "passed" else None
        timeout = written.get("timeout", DEFAULT_TIMEOUT)
        if index < len(pauses) and pauses[index] + PAUSE_MARGIN > timeout:
            timeout = min(MAX_TIMEOUT, round(pauses[index] + PAUSE_MARGIN, 1))
        steps.append({"expect": [heard], "then": then, "timeout": timeout})
    if not steps:
        raise ValueError(f"run {doc.get('unique_id')}: nothing was heard, so there is nothing to expect")
    steps[-1]["then"] = None if steps[-1]["then"] != "hangup" else "hangup"
    target, lex_bot = split_target(doc.get("target"))
    suite = {"name": f"{doc.get('suite') or 'run'} (snapshot)",
             "description": f"Snapshot of run {doc.get('unique_id')} ({doc.get('status')}, "
                            f"{doc.get('mode', 'live')}, {doc.get('startTimestamp')})."}
    if target and target != "serve":
        suite["target"] = target
    if lex_bot:
        suite["lexBot"] = lex_bot
    suite.update({k: v for k, v in (doc.get("conditions") or {}).items() if k != "lexBot" or not lex_bot})
    suite["steps"] = steps
    parse_suite(suite, f"snapshot of run {doc.get('unique_id')}")     # what we write must load
    return suite
