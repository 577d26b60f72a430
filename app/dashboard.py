"""The results dashboard: runs a person can read in a browser, and the same as one HTML file.

`/` lists the runs newest first, grouped by invocation (one `ivr-test run`, one pytest session),
each failed run with the reason it stopped (and the step's word diff when it has one), above a
pass/fail trend per suite over its last runs; filter with `?status=`, `?suite=` and
`?invocation=`. `/runs/<id>` shows one run: each step's expected vs heard, score, action and
timings, the call as an `IVR:`/`Caller:` transcript, and the flow coverage the run reached.

It only reads the results store (GET only) and loads nothing from elsewhere: the stylesheet is
served from `app/static/`, there is no script at all, and a Content-Security-Policy says so, so
a transcript that contains markup stays text (Jinja escapes every value as well).
`render_static_report()` renders the same templates into one self-contained page (inline CSS)
for `run --html FILE` and `report --html FILE`, which can be mailed or attached to a CI build:
a summary and the failures first, then every run collapsed (`<details>`), failed ones first.
"""
import json
from datetime import datetime
from pathlib import Path

import hmac
import logging
import threading

from flask import Blueprint, Flask, Response, abort, current_app, g, render_template, request, url_for
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app import MAX_REQUEST_BYTES
from app.junit import run_seconds, step_outcomes
from app.report import entry_text, instruction, parse_iso, party_label

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
TEMPLATES, STATIC = HERE / "templates", HERE / "static"
STYLESHEET = "dashboard.css"
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
TREND_LENGTH = 20              # runs per suite in the trend
TREND_WINDOW = 1000            # the latest runs the trends and the suite menu are drawn from
DASHBOARD_SLOTS = 2            # dashboard requests at once; beyond, 503: webhooks keep their threads (and the GIL)
STATUSES = ("complete", "failed", "error", "busy", "no-answer", "canceled", "stalled", "interrupted",
            "in-progress", "queued")
STATUS_KIND = {"complete": "pass", "failed": "fail", "busy": "fail", "no-answer": "fail",
               "canceled": "fail", "error": "error", "stalled": "error", "interrupted": "error",
               "queued": "running", "in-progress": "running"}
OUTCOME_KIND = {"passed": "pass", "failure": "fail", "error": "error", "skipped": "skipped"}
OUTCOME_LABEL = {"passed": "passed", "failure": "failed", "error": "error", "skipped": "not reached"}
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")

bp = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static",
               static_url_path="/dashboard/static")


def create_dashboard_app(store, password=None):
    """A Flask app serving only the dashboard, over `store` (app/dashboard_process.py runs it
    in a process of its own), with basic auth when `password` is set."""
    app = Flask(__name__)
    app.config.update(DASHBOARD_PASSWORD=password or "", MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)
    app.extensions["store"] = store
    return register(app)


def register(app):
    """Add the dashboard to a Flask app (once), with its own small share of the server."""
    if "dashboard" not in app.blueprints:
        app.extensions["dashboard_slots"] = threading.BoundedSemaphore(DASHBOARD_SLOTS)
        app.register_blueprint(bp)
    return app


@bp.before_request
def guard():
    """Basic auth when DASHBOARD_PASSWORD is set; at most DASHBOARD_SLOTS requests at once (a
    busy dashboard answers 503 rather than take the threads the webhooks need)."""
    password = current_app.config.get("DASHBOARD_PASSWORD")
    if password:
        given = request.authorization.password if request.authorization else None
        if not given or not hmac.compare_digest(given.encode(), password.encode()):
            return Response("password required\n", 401, {"WWW-Authenticate": 'Basic realm="IVR tests"'},
                            mimetype="text/plain")
    if not current_app.extensions["dashboard_slots"].acquire(blocking=False):
        return Response("the dashboard is busy, try again\n", 503, {"Retry-After": "1"},
                        mimetype="text/plain")
    g.dashboard_slot = True
    return None


@bp.teardown_request
def release(_error):
    if g.pop("dashboard_slot", False):
        current_app.extensions["dashboard_slots"].release()


# ── routes ──────────────────────────────────────────────────────────────────────────────────

@bp.get("/")
def index():
    """The runs, newest first, filtered by `status` and `suite`, with counts of what they show."""
    status, suite = request.args.get("status", ""), request.args.get("suite", "")
    invocation = request.args.get("invocation", "")
    limit, offset = parse_limit(request.args.get("limit")), parse_offset(request.args.get("offset"))

    def wanted(doc):
        return ((not suite or suite in (doc.get("suite"), doc.get("file")))
                and (not invocation or doc.get("invocation") == invocation))
    match = wanted if suite or invocation else None
    shown = store().summaries(last=limit + 1, offset=offset, status=status or None, match=match)
    more = len(shown) > limit
    shown = shown[:limit]
    older = url_for("dashboard.index", status=status or None, suite=suite or None,
                    invocation=invocation or None, offset=offset + limit, limit=limit) if more else None
    rows = readable(lambda doc: with_failure(summary(doc), store().get), shown)
    recent = store().summaries(last=TREND_WINDOW)       # O(window), not O(history)
    return render_template("dashboard/index.html", **page_links(), groups=by_invocation(rows),
                           shown=len(rows), limit=limit, counts=counts(shown), older_href=older,
                           total=offset + len(shown) if match or status else store().total(),
                           trends=suite_trends(readable(dict, filter_runs(recent, suite=suite,
                                                                          invocation=invocation))),
                           statuses=list(STATUSES), suites=suite_choices(recent),
                           status=status, suite=suite, invocation=invocation, run_href=run_href,
                           invocation_href=lambda key: url_for("dashboard.index", invocation=key),
                           trend_length=TREND_LENGTH)


@bp.get("/runs/<run_id>")
def run(run_id):
    """One run in full; 404 for an id the store does not know."""
    doc = store().get(run_id)
    if doc is None:
        abort(404)
    view = readable(run_view, [doc])
    if not view:
        return Response(f"run {run_id} cannot be shown: its stored document has fields of an "
                        "unexpected type (see the server log)\n", 422, mimetype="text/plain")
    return render_template("dashboard/run.html", **page_links(), run=view[0])


@bp.errorhandler(404)
def not_found(_error):
    """A readable page for an unknown run (errors raised in this blueprint's views only)."""
    return render_template("dashboard/not_found.html", **page_links()), 404


@bp.after_request
def security_headers(response):
    """No script, no third party: the browser is told so, and never to frame or sniff the page."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def store():
    return current_app.extensions["store"]


def page_links():
    return {"css_href": url_for("dashboard.static", filename=STYLESHEET),
            "home_href": url_for("dashboard.index"), "inline_css": None}


def run_href(doc):
    return url_for("dashboard.run", run_id=doc["id"])


def parse_limit(text):
    try:
        return min(max(int(text), 1), MAX_LIMIT)
    except (TypeError, ValueError):
        return DEFAULT_LIMIT


def parse_offset(text):
    try:
        return min(max(int(text), 0), 10_000_000)
    except (TypeError, ValueError):
        return 0


def readable(view, docs):
    """`view(doc)` of each stored document; one of an unexpected shape (a hand-edited file, an
    older version) is skipped with a note in the log rather than break the page."""
    shown = []
    for doc in docs:
        try:
            shown.append(view(doc if isinstance(doc, dict) else {}))
        except Exception as exc:                                # noqa: BLE001 - any shape
            log.warning("skipped run %r in the dashboard: %r", str(doc.get("unique_id") if
                        isinstance(doc, dict) else doc)[:80], exc)
    return shown


# ── the runs list ───────────────────────────────────────────────────────────────────────────

def filter_runs(docs, status="", suite="", invocation=""):
    """Runs with this exact status, whose suite name or file is `suite`, of this invocation
    (empty: any)."""
    return [doc for doc in docs
            if (not status or doc.get("status") == status)
            and (not suite or suite in (doc.get("suite"), doc.get("file")))
            and (not invocation or doc.get("invocation") == invocation)]


def by_invocation(rows):
    """Rows grouped by the invocation that ran them, newest group first (rows keep their
    order); runs stored before invocations had ids form one group of their own."""
    groups = {}
    for row in rows:
        key = str(row["invocation"] or "")
        if key not in groups:
            groups[key] = {"id": key, "started": row["started"], "runs": []}
        groups[key]["runs"].append(row)
    for group in groups.values():
        group["counts"] = counts(group["runs"])
        targets = {str(row["target"]) for row in group["runs"]}
        group["target"] = targets.pop() if len(targets) == 1 else None    # said once, in the header
    return list(groups.values())


def suite_trends(docs, length=TREND_LENGTH):
    """Per suite file, its last `length` finished runs oldest to newest, and how many passed:
    a suite that flips between pass and fail shows it at a glance."""
    trends = {}
    for doc in docs:                                   # newest first
        if kind_of(doc.get("status")) == "running":
            continue
        key = str(doc.get("file") or doc.get("suite") or "")
        runs = trends.setdefault(key, {"suite": str(doc.get("suite") or key), "file": key, "runs": []})["runs"]
        if len(runs) < length:
            runs.append({"id": doc.get("unique_id"), "kind": kind_of(doc.get("status")),
                         "title": f"{display_time(doc.get('startTimestamp'))}: {doc.get('status')}"})
    for trend in trends.values():
        trend["runs"].reverse()
        trend["passed"] = sum(run["kind"] == "pass" for run in trend["runs"])
        trend["last_kind"] = trend["runs"][-1]["kind"]
    return sorted(trends.values(), key=lambda t: (t["last_kind"] == "pass", t["suite"].lower()))


def counts(docs):
    """How many runs passed, failed, errored and are still running."""
    kinds = [kind_of(doc.get("status")) for doc in docs]
    return {"runs": len(docs), "pass": kinds.count("pass"), "fail": kinds.count("fail"),
            "error": kinds.count("error"), "running": kinds.count("running")}


def status_choices(docs):
    present = {doc.get("status") for doc in docs}
    return [s for s in STATUSES if s in present] + sorted(s for s in present - set(STATUSES) if s)


def suite_choices(docs):
    names = (doc.get("suite") or doc.get("file") for doc in docs)
    return sorted({name for name in names if isinstance(name, str) and name}, key=str.lower)


def kind_of(status):
    """pass, fail, error or running for a stored status (of any type: a document may be odd)."""
    return STATUS_KIND.get(status, "error") if isinstance(status, str) else "error"


def summary(doc):
    """One row of the runs list."""
    return {"id": doc.get("unique_id"), "suite": doc.get("suite") or doc.get("file") or "(unnamed)",
            "file": doc.get("file"), "target": doc.get("target"), "status": doc.get("status"),
            "invocation": doc.get("invocation"), "failure": None,
            "kind": kind_of(doc.get("status")),
            "started": display_time(doc.get("startTimestamp")),
            "steps": f"{doc.get('passedSteps', 0)}/{doc.get('totalSteps', 0)}",
            "outcome": doc.get("ivrOutcome") or doc.get("endReason") or "",
            "duration": f"{run_seconds(doc):.1f} s" if doc.get("endTimeStamp") else ""}


def with_failure(row, get_run):
    """The row with why its run did not pass (read from the full run, only for those)."""
    if row["kind"] in ("fail", "error"):
        doc = get_run(row["id"])
        row["failure"] = failure_reason(doc) if doc else None
    return row


def failure_reason(doc):
    """Where and why a run stopped: `step 2: no-match: expected ...; heard ...`, with the
    step's word diff and the rule that judged it when the result carries them."""
    for number, (outcome, result, message) in enumerate(step_outcomes(doc), 1):
        if outcome in ("failure", "error"):
            result = result or {}
            return {"text": f"step {number}: {message}", "diff": show(result.get("diff")),
                    "rule": show(result.get("rule"))}
    reason = doc.get("endReason") or doc.get("status")
    return {"text": reason, "diff": None, "rule": None} if reason else None


def show(value):
    """A stored value as text for the page (a diff may be a string or structured)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


# ── one run ─────────────────────────────────────────────────────────────────────────────────

def run_view(doc):
    """Everything the run page shows, computed once so the template only lays it out."""
    view = summary(doc)
    view.update({"ended": display_time(doc.get("endTimeStamp")), "end_reason": doc.get("endReason"),
                 "ivr_outcome": doc.get("ivrOutcome"), "call_sid": doc.get("callSid"),
                 "mode": doc.get("mode"), "seed": doc.get("seed"), "noise": doc.get("noise"),
                 "steps_rows": step_rows(doc), "transcript": transcript_rows(doc),
                 "coverage": coverage_view(doc.get("coverage")),
                 "twilio_errors": [" ".join(str(part) for part in e) for e in doc.get("twilioErrors") or []]})
    view["verdict"] = verdict(view)
    return view


def verdict(view):
    """One sentence at the top of a run: passed, or where and why it stopped."""
    stop = next((row for row in view["steps_rows"] if row["outcome"] in ("failure", "error")), None)
    if view["kind"] == "pass":
        return f"All {len(view['steps_rows'])} steps passed."
    if stop is not None:
        return f"Stopped at step {stop['number']}: {stop['message']}"
    return f"The run is {view['status']}" + (f": {view['end_reason']}" if view["end_reason"] else ".")


def step_rows(doc):
    """Each step: what was expected, what was heard, the verdict, the action and the timings."""
    start = parse_iso(doc.get("startTimestamp"))
    rows = []
    for index, (outcome, result, message) in enumerate(step_outcomes(doc)):
        result = result or {}
        written = instruction(doc, index + 1)
        expected = result.get("expected") or written.get("expect") or []
        rows.append({
            "number": index + 1, "outcome": outcome, "label": OUTCOME_LABEL[outcome],
            "kind": OUTCOME_KIND[outcome], "message": message,
            "expected": [expected] if isinstance(expected, str) else list(expected),
            "heard": result.get("actualResult"),
            "score": result.get("score"), "match": result.get("match") or written.get("match") or "fuzzy",
            "confidence": result.get("confidence"), "reason": result.get("reason"),
            "rule": result.get("rule"), "rule_detail": result.get("ruleDetail"), "diff": result.get("diff"),
            "action": result.get("action"), "planned": written.get("then"),
            "listened_from": offset(start, result.get("listenStartedAt")),
            "judged_at": offset(start, result.get("judgedAt")), "waited": result.get("waited"),
            "timeout": written.get("timeout"),
        })
    return rows


def transcript_rows(doc):
    """The call as lines: time from the start, who, and what was said or pressed."""
    return [{"t": entry.get("t") or 0, "party": entry.get("party") or "", "who": party_label(entry),
             "kind": entry.get("kind"), "text": entry_text(entry)}
            for entry in doc.get("transcript") or []]


def coverage_view(coverage):
    """Blocks and branches the run reached; with totals or missed lists, what it never reached."""
    if not coverage:
        return None
    blocks = list(coverage.get("blocks") or [])
    branches = [describe_branch(b) for b in coverage.get("branches") or []]
    missed_blocks = coverage.get("missedBlocks")
    missed_branches = coverage.get("missedBranches")
    if missed_branches is not None:
        missed_branches = [describe_branch(b) for b in missed_branches]
    total_blocks = coverage.get("totalBlocks") or total(blocks, missed_blocks)
    total_branches = coverage.get("totalBranches") or total(branches, missed_branches)
    return {"blocks": blocks, "branches": branches,
            "total_blocks": total_blocks, "total_branches": total_branches,
            "block_percent": percent(len(blocks), total_blocks),
            "branch_percent": percent(len(branches), total_branches),
            "missed_blocks": list(missed_blocks) if missed_blocks is not None else None,
            "missed_branches": missed_branches}


def total(reached, missed):
    return len(reached) + len(missed) if missed is not None else None


def describe_branch(branch):
    """`main-menu -[Condition:Equals 1]-> set-department`, as the console prints it."""
    if isinstance(branch, (list, tuple)) and len(branch) == 3:
        source, label, target = branch
        return f"{source} -[{label}]-> {target}"
    return str(branch)


def percent(part, whole):
    return round(100 * part / whole) if whole else None


def offset(start, text):
    """Seconds from the run's start to `text` (an ISO time), or None."""
    moment = parse_iso(text)
    return (moment - start).total_seconds() if start and moment else None


def display_time(text):
    moment = parse_iso(text)
    if moment is None:
        return text or ""
    suffix = " UTC" if moment.utcoffset() is not None and not moment.utcoffset() else ""
    return moment.strftime("%Y-%m-%d %H:%M:%S") + suffix


# ── the static report ───────────────────────────────────────────────────────────────────────

def render_static_report(documents, title="IVR test results"):
    """The runs as one self-contained HTML page (inline CSS, no links outside the page),
    rendered from the dashboard's own templates without a Flask app: counts and the failures
    first, then every run collapsed, failed ones first, so a page of many runs stays short."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    docs = [d for d in documents if isinstance(d, dict)]
    docs.sort(key=lambda d: kind_of(d.get("status")) == "pass")
    by_id = {d.get("unique_id"): d for d in docs}
    rows = readable(lambda d: with_failure(summary(d), by_id.get), docs)
    return env.get_template("dashboard/report.html").render(
        title=title, inline_css=(STATIC / STYLESHEET).read_text(encoding="utf-8"), css_href=None,
        home_href="#top", groups=by_invocation(rows), failures=[r for r in rows if r["failure"]],
        details=readable(run_view, docs), counts=counts(docs), total=len(docs), shown=len(docs),
        run_href=lambda row: f"#run-{row['id']}",
        generated=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"))


def write_html_report(documents, path, title=None):
    """Write `render_static_report(documents)` to `path` (folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_static_report(documents, **({"title": title} if title else {})), encoding="utf-8")
