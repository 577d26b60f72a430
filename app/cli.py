"""The command line: `run` (the default), `serve`, `validate`, `results`, `report` and `schema`.

`ivr-test SUITES...` and `ivr-test -q` mean `ivr-test run ...`: anything that is not a command
name is handed to `run`. Exit codes are CI's: 0 every suite passed, 1 any failed, 2 a usage or
setup error (a broken suite, an unknown target, a bad setting, a busy port), 130 interrupted.
Every setup error is one `error: ...` line, never a traceback (`DefaultToRun.main`).

Commands are plain click commands registered at the bottom with `cli.add_command`, one line
each, so adding one is one line here and the command in its own module.
"""
import json
import os
import sys
from pathlib import Path

import click

from app.caller import DIAL_OUTCOMES
from app.errors import IvrTestError, StorageError
from app.report import ConsoleReporter, print_summary
from app.run_options import HOURS
from app.stopping import StopSignals, exit_stopped, exit_storage_failure, open_or_exit
from app.simulator.recognizer import NOISE_MODES
from app.suite import missing_folders
from app.version import version
from app.flows_command import flows
from app.generate import commands as generation
from app.simulator.lex.command import lex_command

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
NOT_STARTED = ("queued",)


def fail(message):
    """A setup error: one line on stderr, exit 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def setup():
    """The project file, settings and a new invocation id, or exit 2 saying what is wrong."""
    from app.invocation import load_invocation
    try:
        return load_invocation()
    except IvrTestError as exc:
        fail(str(exc))


def warn_empty_folders(paths):
    """A folder named for suites that holds none is said, not silently skipped."""
    for folder in missing_folders(paths):
        click.echo(f"warning: {folder}: no suite files (*.json) in this folder", err=True)


def echo_errors(errors):
    for error in errors:
        for message in getattr(error, "messages", None) or [str(error)]:
            click.echo(f"error: {message}", err=True)


class DefaultToRun(click.Group):
    """A group whose default command is `run`, with CI's exit codes and no tracebacks for
    mistakes a user can make."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help", "--version")):
            args = ["run", *args]
        return super().parse_args(ctx, args)

    def main(self, args=None, prog_name=None, **extra):
        extra.pop("standalone_mode", None)
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.Abort:                     # click's name for Ctrl-C
            click.echo("\ninterrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except KeyboardInterrupt:
            click.echo("\ninterrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.UsageError as exc:
            where = f" (see {exc.ctx.command_path} -h)" if exc.ctx else ""
            fail(exc.format_message() + where)
        except click.ClickException as exc:
            fail(exc.format_message())
        except IvrTestError as exc:
            fail(str(exc))
        sys.exit(code if isinstance(code, int) else EXIT_OK)


@click.group(cls=DefaultToRun, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version(), "--version", prog_name="ivr-test", message="%(prog)s %(version)s")
def cli():
    """IVR test server: run JSON test suites against a phone IVR, offline or through Twilio.

    With no command, runs suites (`ivr-test SUITES...` is `ivr-test run SUITES...`). Settings
    come from the command line, each suite, the project file (ivr-test.toml, or [tool.ivr-test]
    in pyproject.toml, found from here upwards), the environment (.env), then defaults.
    Exit codes: 0 passed, 1 failed, 2 usage or setup error, 130 interrupted.
    """


def main():
    """The `ivr-test` console command."""
    cli(prog_name="ivr-test")


# ── run ─────────────────────────────────────────────────────────────────────────────────────

@click.command()
@click.argument("suites", nargs=-1, type=click.Path())
@click.option("--target", help="Flow export file/folder, twiml:URL, or +E164 phone number.")
@click.option("--lex-bot", type=click.Path(), help="Lex bot export (V1 JSON, V2 zip or folder) for the flow.")
@click.option("--concurrency", type=click.IntRange(min=1), help="Calls at a time (per worker offline).  [default: 10]")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes for offline calls (default: the number of cores; small runs stay in one).")
@click.option("--wire", is_flag=True,
              help="Offline calls make the full webhook round trip (signed HTTP form posts, TwiML as XML).")
@click.option("--seed", type=int, help="Seed of the offline recognizer's noise.  [default: 0]")
@click.option("--noise", type=click.Choice(NOISE_MODES), help="Offline speech recognition noise.  [default: realistic]")
@click.option("--hours", type=click.Choice(HOURS), help="What CheckHoursOfOperation answers offline.  [default: open]")
@click.option("--lambda-responses", type=click.Path(exists=True, dir_okay=False),
              help="JSON file: Lambda function name or ARN -> the response it returns offline.")
@click.option("--dial", type=click.Choice(DIAL_OUTCOMES), default=None,
              help="TwiML targets: what the far end of every <Dial> does (default: the suite's "
                   "\"dial\", else answered).")
@click.option("--db", type=click.Path(dir_okay=False), help="Results database.  [default: results/db.json]")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False),
              help="Also write JUnit XML: a testsuite per suite file, a testcase per step.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False),
              help="Also write this invocation's runs as one HTML page.")
@click.option("-q", "--quiet", is_flag=True, help="One line per suite.")
@click.option("-v", "--verbose", is_flag=True,
              help="Also each step's heard text, matched phrase, score, confidence, wait and action.")
@click.option("--no-color", is_flag=True,
              help="Plain text, no progress display (automatic when stdout is not a terminal).")
def run(suites, target, lex_bot, concurrency, workers, wire, seed, noise, hours, lambda_responses,
        dial, db, junit_path, html_path, quiet, verbose, no_color):
    """Run suites (default: the project's, else every testSuite/*.json) against their target."""
    from app.store import open_store
    invocation = setup()
    paths, source = invocation.suite_paths(suites)
    if source == "bundled sample":
        click.echo("no testSuite/ here and no project file: running the bundled sample suites", err=True)
    loaded, errors = invocation.load(paths)
    warn_empty_folders(paths)
    if not loaded and not errors:
        fail(f"no suite files found in {', '.join(map(str, paths))}")
    try:
        jobs, job_errors = invocation.jobs(loaded, target, lex_bot, hours=hours, noise=noise, seed=seed,
                                           lambda_responses=lambda_responses)
    except IvrTestError as exc:
        fail(str(exc))
    errors += job_errors
    unknown = [p for p in suites if not Path(p).exists() and not str(p).endswith(".json")]
    if unknown and not jobs:
        fail(f"{unknown[0]!r} is neither a suite file or folder nor a command "
             f"({', '.join(sorted(click.get_current_context().parent.command.commands))})")
    echo_errors(errors)
    if not jobs:
        sys.exit(EXIT_BAD_INPUT)
    color = False if no_color else None
    reporter = ConsoleReporter(quiet=quiet, verbose=verbose, color=color, total=len(jobs))
    store = open_or_exit(open_store, invocation.results_path(db))
    reporter.start()      # here, on the main thread: live runs report from webhook threads
    signals, failure = StopSignals(), None
    with signals:
        try:
            result = execute(jobs, store, invocation.settings, reporter,
                             concurrency=invocation.concurrency(concurrency), dial=dial,
                             workers=workers or os.cpu_count() or 1, wire=wire)
        except StorageError as exc:
            failure = exc
        except IvrTestError as exc:
            fail(str(exc))
        finally:
            with signals.deferred():           # storing the runs must not be cut short
                reporter.close()
                store.close()
    if signals.stopped:
        exit_stopped(signals.stopped, store)
    if failure or store.failure:
        exit_storage_failure(failure or store.failure, store)
    report(result, color)
    if junit_path or html_path:           # documents are read back from the store only for these
        write_reports(result.documents, junit_path, html_path, f"invocation {invocation.id}")
    sys.exit(exit_code(result.summaries, errors))


def execute(jobs, store, settings, reporter, **options):
    """Run offline jobs on the virtual network, then live ones through Twilio."""
    from app.runner import OfflineResult, OfflineRunner
    offline = [job for job in jobs if job.target.offline]
    live = [job for job in jobs if not job.target.offline]
    result = OfflineResult()
    if offline:
        result = OfflineRunner(store, reporter=reporter, **options).run(offline)
    if live:
        from app.live import run_live
        result.extend(run_live(live, store, settings, reporter, concurrency=options["concurrency"]))
    return result


def exit_code(documents, suite_errors=()):
    """2 for bad input (a broken suite, a run that could not start, a target that could not be
    reached at all), 130 when runs were interrupted (Ctrl-C during live calls), 1 if any
    failed, else 0."""
    if suite_errors or any(doc["status"] == "error" or doc.get("setupError") for doc in documents):
        return EXIT_BAD_INPUT
    if any(doc["status"] == "interrupted" for doc in documents):
        return EXIT_INTERRUPTED
    return EXIT_OK if all(doc["status"] == "complete" for doc in documents) else EXIT_FAILED


def report(result, color=None):
    print_summary(result.summaries, result.coverage, color=color)
    if result.virtual_seconds:
        click.echo(f"simulated {result.virtual_seconds:.1f} s of calls in {result.wall_seconds:.2f} s")


def write_reports(docs, junit_path=None, html_path=None, title=None):
    if junit_path:
        from app.junit import write_junit
        write_junit(docs, junit_path)
        click.echo(f"JUnit XML: {junit_path} ({len(docs)} runs)")
    if html_path:
        from app.dashboard import write_html_report
        write_html_report(docs, html_path, title=f"IVR test results: {title}" if title else None)
        click.echo(f"HTML report: {html_path} ({len(docs)} runs)")


# ── serve ───────────────────────────────────────────────────────────────────────────────────

@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), help="Default: PORT or 5000.")
@click.option("--suites", "suite_paths", multiple=True, type=click.Path(),
              help="Suites queued for calls placed by another tool (default: as for run).")
@click.option("--db", type=click.Path(dir_okay=False))
def serve(host, port, suite_paths, db):
    """Serve the webhooks; calls placed elsewhere take the queued suites in order."""
    from app import create_app, dashboard_wanted, raise_open_files_limit
    from app.serving import create_server
    from app.store import open_store
    raise_open_files_limit()
    invocation = setup()
    settings = invocation.settings
    paths, _ = invocation.suite_paths(suite_paths)
    loaded, errors = invocation.load(paths)
    warn_empty_folders(paths)
    if errors:
        echo_errors(errors)
        fail(f"not serving: {len(errors)} suite file(s) could not be loaded (python main.py validate)")
    port = port or settings["PORT"]
    store = open_or_exit(open_store, invocation.results_path(db))
    signals, dashboard = StopSignals(), None
    try:
        app = create_app({"STORE": store, "DASHBOARD": False})
        with_dashboard = dashboard_wanted(settings)
        try:
            server = create_server(app, host=host, port=port)
        except (OSError, ValueError) as exc:
            fail(f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc} "
                 "(is another server using it? set PORT or pass --port)")
        for suite in loaded:
            app.extensions["runs"].create(suite, target="serve", extra={"mode": "serve", "invocation": invocation.id},
                                          queue=True)
        public = settings["PUBLIC_URL"] or f"http://{host}:{port}"
        click.echo(f"{len(loaded)} suite(s) queued. Webhooks: {public}/voice  {public}/status")
        if not settings["TWILIO_AUTH_TOKEN"]:
            click.echo("warning: TWILIO_AUTH_TOKEN is not set, so requests are not signature-checked")
        with signals:
            server.start()      # the webhooks are served while the dashboard process starts
            if with_dashboard:
                dashboard = start_dashboard(server, app, store.path, settings, public)
            server.run()        # Ctrl-C or SIGTERM: the requests in flight are finished
    except IvrTestError as exc:
        fail(str(exc))
    finally:
        with signals.deferred():
            if dashboard is not None:
                dashboard.stop()
            store.close()
    if signals.stopped:
        exit_stopped(signals.stopped, store)


def start_dashboard(server, app, db, settings, public):
    """The dashboard in its own process (app/dashboard_process.py), behind `server`'s port."""
    from app.dashboard_process import DashboardProcess, route
    dashboard = DashboardProcess(db, settings["DASHBOARD_PASSWORD"])
    server.wsgi_app = route(app, dashboard.proxy)
    if dashboard.wait_ready():
        click.echo(f"Dashboard: {public}/ (process {dashboard.pid})")
    else:
        click.echo(f"warning: the dashboard process did not start (exit code {dashboard.proc.poll()}); "
                   "its pages answer 503, the webhooks are served", err=True)
    return dashboard


# ── validate, schema ────────────────────────────────────────────────────────────────────────

@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
def validate(paths):
    """Check suite files, reporting every error in each; exits 2 on any error."""
    invocation = setup()
    paths, _ = invocation.suite_paths(paths)
    from app.suite import load_suites
    loaded, errors = load_suites(paths)
    warn_empty_folders(paths)
    for suite in loaded:
        click.echo(f"ok  {suite.path} ({len(suite.steps)} steps)")
    echo_errors(errors)
    if errors or not loaded:
        if not errors:
            click.echo("error: no suite files found", err=True)
        sys.exit(EXIT_BAD_INPUT)


@click.command()
def schema():
    """Print the JSON Schema of suite files (also in schema/suite.schema.json)."""
    from app.schema import schema_text
    click.echo(schema_text(), nl=False)


# ── results, report ─────────────────────────────────────────────────────────────────────────

def select_runs(db, last=None, invocation_id=None):
    """Runs newest first: those of one invocation (`last`: the newest invocation's), or the
    newest `last` runs that started (serve's still-queued runs are not results yet). Chosen from
    the store's index, so only the runs shown are read."""
    from app.store import ResultStore
    invocation = setup()
    try:
        store = ResultStore(invocation.results_path(db), readonly=True)
    except IvrTestError as exc:
        fail(str(exc))
    try:
        if invocation_id is None:
            chosen = store.summaries(last=last, match=lambda d: d.get("status") not in NOT_STARTED)
        else:
            if invocation_id == "last":
                newest = store.summaries(last=1, match=lambda d: bool(d.get("invocation")))
                if not newest:
                    return []
                invocation_id = newest[0]["invocation"]
            chosen = store.summaries(match=lambda d: d.get("invocation") == invocation_id)
            if not chosen:
                fail(f"no runs of invocation {invocation_id!r} (python main.py results shows invocations)")
        return [doc for doc in (store.get(s["unique_id"]) for s in chosen) if doc is not None]
    finally:
        store.close()


@click.command("report")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write one static HTML page.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), help="Write JUnit XML.")
@click.option("--invocation", "invocation_id", metavar="ID|last",
              help="The runs of one invocation (run --html/--junit ids it).  [default: last]")
@click.option("--last", type=click.IntRange(min=1), help="Instead, the newest N runs of any invocation.")
@click.option("--db", type=click.Path(dir_okay=False))
def report_command(html_path, junit_path, invocation_id, last, db):
    """Write runs (by default the last invocation's) as a static HTML page and/or JUnit XML."""
    if not html_path and not junit_path:
        fail("nothing to write: pass --html FILE and/or --junit FILE")
    if last and invocation_id:
        fail("pass --invocation or --last, not both")
    if not last:
        invocation_id = invocation_id or "last"
    docs = select_runs(db, last, invocation_id)
    title = f"invocation {docs[0]['invocation']}" if invocation_id and docs else f"the newest {len(docs)} runs"
    write_reports(docs, junit_path, html_path, title)


@click.command()
@click.option("--last", default=20, show_default=True, type=click.IntRange(min=1), help="How many runs.")
@click.option("--invocation", "invocation_id", metavar="ID|last", help="Only the runs of one invocation.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.option("--db", type=click.Path(dir_okay=False))
def results(last, invocation_id, as_json, db):
    """Print recent runs."""
    docs = select_runs(db, None if invocation_id else last, invocation_id)
    if as_json:
        click.echo(json.dumps(docs, indent=2))
        return
    if not docs:
        click.echo("no runs yet")
        return
    for doc in docs:
        click.echo(f"{str(doc.get('startTimestamp', ''))[:19]}  {str(doc.get('status')):<11}  "
                   f"{doc.get('passedSteps', 0)}/{doc.get('totalSteps', 0)}  {doc.get('suite', '')}"
                   f"  {doc.get('target') or ''}  {doc.get('invocation') or ''}")


cli.add_command(run)
cli.add_command(serve)
cli.add_command(validate)
cli.add_command(schema)
cli.add_command(results)
cli.add_command(report_command)
cli.add_command(flows)
cli.add_command(lex_command)
cli.add_command(generation.generate_command)
cli.add_command(generation.snapshot_command)
cli.add_command(generation.rejudge_command)
cli.add_command(generation.diff_command)
