"""Runs as JUnit XML, so a CI server shows each IVR step the way it shows a unit test.

The output follows the schema pytest's `junitxml` targets (`junit_family=xunit2`, the Jenkins
xUnit plugin's junit-10.xsd), which GitLab, GitHub actions, Jenkins and Azure all read.
One run (one suite file played as one call) is one `<testsuite>`; each step is a `<testcase>`:

- a passed step is a plain testcase;
- a step judged wrong is a `<failure>` whose message gives expected vs heard and the score; a
  timeout (nothing heard) or a listen-limit is a failure too, with the reason;
- a run that could not start (status `error`, or a call that never connected: busy, refused...)
  or that stopped for reasons that are not the IVR's (`interrupted`, `stalled`) is an `<error>`,
  on the step it was at;
- steps after the one where the run stopped were never tried, so they are `<skipped>`.

Names are stable: a testcase is `FILE::step N` (`testSuite/sales.json::step 2`), never the
prompt text, so editing a prompt keeps the test's history in CI. Times are wall seconds, what CI
dashboards compare between builds: a testsuite's is the call's wall time, a testcase's its
share of it in proportion to the step's simulated listening time. The simulated length of the
call is the testsuite's `simulatedSeconds` property.
"""
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from app.report import describe_entry, duration_seconds, instruction, wall_seconds

ROOT_NAME = "ivr-tests"
DEFAULT_STEP_TIMEOUT = 5
NEVER_CONNECTED = ("busy", "no-answer", "canceled")
NOT_THE_IVR = ("error", "interrupted", "stalled")
STILL_RUNNING = ("queued", "in-progress")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def write_junit(documents, path):
    """Write the runs as a JUnit XML file at `path` (folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(documents), encoding="utf-8")


def junit_xml(documents):
    """The runs as one JUnit XML document (`<testsuites>`), as text."""
    root = ET.Element("testsuites", name=ROOT_NAME)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    seconds = 0.0
    for doc in documents:
        suite = testsuite(doc)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key))
        seconds += wall_seconds(doc)
    root.attrib.update({key: str(value) for key, value in totals.items()})
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def testsuite(doc):
    """One run as a `<testsuite>`: its properties, one testcase per step, the call's transcript."""
    cases = [testcase(doc, index, outcome) for index, outcome in enumerate(step_outcomes(doc))]
    counts = {kind: sum(case.find(kind) is not None for case in cases)
              for kind in ("failure", "error", "skipped")}
    suite = ET.Element("testsuite", {
        "name": clean(doc.get("suite") or doc.get("file") or doc.get("unique_id", "")),
        "tests": str(len(cases)), "failures": str(counts["failure"]),
        "errors": str(counts["error"]), "skipped": str(counts["skipped"]),
        "time": f"{wall_seconds(doc):.3f}", "timestamp": doc.get("startTimestamp") or "",
        "id": doc.get("unique_id", ""), "file": clean(doc.get("file") or ""),
    })
    suite.append(properties(doc))
    suite.extend(cases)
    transcript = transcript_text(doc)
    if transcript:
        ET.SubElement(suite, "system-out").text = clean(transcript)
    return suite


def step_outcomes(doc):
    """For every step of the suite: ("passed" | "failure" | "error" | "skipped", result, message).

    The first step that did not pass is where the run stopped; it is the failure (or the error,
    when the run never started or stopped for reasons outside the IVR), and every later step was
    never tried. Steps with no stored result (a run cut short) are treated the same way.
    """
    results = {r.get("step"): r for r in doc.get("results") or []}
    total = max(len(doc.get("instructions") or []), doc.get("totalSteps") or 0, max(results, default=0))
    outcomes, stopped_at = [], None
    for number in range(1, total + 1):
        result = results.get(number)
        if stopped_at is not None:
            outcomes.append(("skipped", result, f"not reached: the run stopped at step {stopped_at}"
                                                f" ({stop_reason(doc, results.get(stopped_at))})"))
            continue
        if result is not None and result.get("status") == "passed":
            outcomes.append(("passed", result, None))
            continue
        stopped_at = number
        outcomes.append(stopping_outcome(doc, number, result))
    return outcomes


def stopping_outcome(doc, number, result):
    """The step where the run stopped: a failure the IVR caused, or an error it did not."""
    if could_not_start(doc):
        return "error", result, f"the call could not start ({doc.get('status')}): {stop_reason(doc, result)}"
    if result is None and doc.get("status") in STILL_RUNNING:
        return "skipped", None, f"not judged yet: the run is {doc.get('status')}"
    if result is None or doc.get("status") in NOT_THE_IVR:
        return "error", result, f"the run stopped ({doc.get('status')}): {stop_reason(doc, result)}"
    return "failure", result, failure_message(doc, number, result)


def could_not_start(doc):
    """True for a run whose call never connected: nothing was ever listened to."""
    if doc.get("status") == "error":
        return True
    results = doc.get("results") or []
    listened = any(r.get("listenStartedAt") or r.get("actualResult") is not None for r in results)
    refused = not results and bool(doc.get("endReason"))
    return not listened and (doc.get("status") in NEVER_CONNECTED or refused)


def stop_reason(doc, result):
    return (result or {}).get("reason") or doc.get("endReason") or doc.get("status") or "unknown"


def failure_message(doc, number, result):
    """Expected vs heard, the score and the reason, in one line a CI summary can show."""
    reason = result.get("reason") or "failed"
    heard = quoted(result.get("actualResult"))
    if reason == "timeout":
        heard = f"nothing within {step_timeout(doc, number):g} s"
    score = f", score {result['score']:.2f}" if result.get("score") is not None else ""
    rule = f"; {result['rule']}: {result.get('ruleDetail') or ''}".rstrip(": ") if result.get("rule") else ""
    diff = f"; diff: {result['diff']}" if result.get("diff") else ""
    return f"{reason}: expected {expected_text(result, doc, number)}; heard {heard}{score}{rule}{diff}"


def testcase(doc, index, outcome):
    kind, result, message = outcome
    result = result or {}
    case = ET.Element("testcase", {
        "classname": classname(doc), "name": case_name(doc, index + 1),
        "time": f"{step_wall_seconds(doc, result):.3f}",
    })
    if kind != "passed":
        detail = ET.SubElement(case, kind, message=clean(message))
        if kind != "skipped":
            detail.set("type", result.get("reason") or doc.get("status") or kind)
            detail.text = clean(step_details(doc, index + 1, result))
    return case


def step_details(doc, number, result):
    """The body of a failure or error: every field a person needs to see why."""
    lines = [f"step {number} of {doc.get('file') or doc.get('suite')}",
             f"expected: {expected_text(result, doc, number)}",
             f"heard:    {quoted(result.get('actualResult'))}"]
    for key in ("match", "matchedPhrase", "score", "confidence", "reason", "rule", "ruleDetail", "diff",
                "waited"):
        if result.get(key) is not None:
            lines.append(f"{key}: {result[key]}")
    if doc.get("endReason"):
        lines.append(f"run ended: {doc['endReason']}")
    return "\n".join(lines)


def properties(doc):
    element = ET.Element("properties")
    for key in ("unique_id", "invocation", "status", "target", "endReason", "ivrOutcome", "mode", "seed",
                "noise", "callSid", "passedSteps", "totalSteps"):
        if doc.get(key) is not None:
            ET.SubElement(element, "property", name=key, value=clean(str(doc[key])))
    if duration_seconds(doc) is not None:
        ET.SubElement(element, "property", name="simulatedSeconds", value=f"{duration_seconds(doc):.3f}")
    return element


def transcript_text(doc):
    """The call as `  7.8s  Caller: press 1` lines, for the suite's system-out."""
    return "\n".join(f"{entry.get('t', 0):7.1f}s  {describe_entry(entry)}"
                     for entry in doc.get("transcript") or [])


def expected_text(result, doc, number):
    phrases = result.get("expected")
    if phrases is None:
        phrases = instruction(doc, number).get("expect")
    if isinstance(phrases, str):
        phrases = [phrases]
    return " | ".join(json.dumps(p, ensure_ascii=False) for p in phrases or []) or "(anything)"


def case_name(doc, number):
    """`testSuite/sales.json::step 2`: where the step is, not what it says, so that editing a
    prompt does not rename the test in CI's history."""
    where = (doc.get("file") or doc.get("suite") or doc.get("unique_id") or "suite").replace("\\", "/")
    return clean(f"{where}::step {number}")


def step_wall_seconds(doc, result):
    """The step's share of the call's wall time, by its share of the simulated call (offline
    calls interleave on one virtual clock, so a step's own wall time is not measurable)."""
    simulated, waited = duration_seconds(doc), result.get("waited")
    if not simulated or not isinstance(waited, (int, float)):
        return 0.0
    return wall_seconds(doc) * min(1.0, max(0.0, waited) / simulated)


def classname(doc):
    """`testSuite.testSalesCall` for `testSuite/testSalesCall.json`, as CI tools group by it."""
    path = (doc.get("file") or doc.get("suite") or "suite").replace("\\", "/")
    path = re.sub(r"\.json$", "", path).strip("./")
    return clean(path.replace("/", ".") or "suite")


def step_timeout(doc, number):
    timeout = instruction(doc, number).get("timeout", DEFAULT_STEP_TIMEOUT)
    return timeout if isinstance(timeout, (int, float)) else DEFAULT_STEP_TIMEOUT


def run_seconds(doc):
    """How long the call took, 0 when unknown (JUnit wants a number)."""
    return duration_seconds(doc) or 0.0


def quoted(text):
    return json.dumps(text, ensure_ascii=False) if text is not None else "nothing"


def clean(text):
    """Drop characters XML 1.0 cannot carry (a TwiML app may say anything)."""
    return _ILLEGAL_XML.sub("", text or "")
