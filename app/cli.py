"""The command line: `run` (the default), `serve`, `validate` and `results`.

Bad input (a broken suite, an unknown target, a missing setting) prints one clear message and
exits 2; a run where any suite fails exits 1; all passing exits 0.
"""
import json
import sys
from pathlib import Path

import click

from app.config import load_settings
from app.errors import ConfigError, IvrTestError, StorageError
from app.report import ConsoleReporter, print_summary
from app.stopping import StopSignals, exit_stopped, exit_storage_failure, open_or_exit
from app.store import open_store
from app.suite import load_suites
from app.targets import resolve_target

DEFAULT_SUITES = "testSuite"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def settings_or_exit():
    try:
        return load_settings()
    except IvrTestError as exc:
        raise click.ClickException(str(exc)) from None


def fail(message):
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


@click.group(invoke_without_command=True)
@click.pass_context
def cli(ctx):
    """IVR test server: run JSON test suites against a phone IVR, offline or through Twilio."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


@cli.command()
@click.argument("suites", nargs=-1, type=click.Path())
@click.option("--target", help="Flow export file/folder, twiml:URL, or +E164 phone number.")
@click.option("--lex-bot", type=click.Path(), help="Lex bot export (V1 JSON, V2 zip or folder) for the flow.")
@click.option("--concurrency", default=10, show_default=True, help="Calls at a time.")
@click.option("--seed", default=0, show_default=True, help="Seed of the offline recognizer's noise.")
@click.option("--noise", type=click.Choice(["off", "realistic"]), default="realistic", show_default=True,
              help="Offline speech recognition noise.")
@click.option("--hours", type=click.Choice(["open", "closed"]), default="open", show_default=True,
              help="What CheckHoursOfOperation answers offline.")
@click.option("--lambda-responses", type=click.Path(exists=True, dir_okay=False),
              help="JSON file: Lambda function name or ARN -> the response it returns offline.")
@click.option("--db", type=click.Path(), help="Results database (default RESULTS_DB or results/db.json).")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False),
              help="Also write JUnit XML: a testsuite per suite file, a testcase per step.")
@click.option("-q", "--quiet", is_flag=True, help="One line per suite.")
@click.option("-v", "--verbose", is_flag=True,
              help="Also each step's heard text, matched phrase, score, confidence, wait and action.")
@click.option("--no-color", is_flag=True,
              help="Plain text, no progress display (automatic when stdout is not a terminal).")
def run(suites, target, lex_bot, concurrency, seed, noise, hours, lambda_responses, db, junit_path,
        quiet, verbose, no_color):
    """Run suites (default: every testSuite/*.json) against their target."""
    settings = settings_or_exit()
    loaded, errors = load_suites(suites or [DEFAULT_SUITES])
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if not loaded and not errors:
        fail(f"no suite files found in {', '.join(suites or [DEFAULT_SUITES])}")
    jobs = make_jobs(loaded, target, settings["IVR_TARGET"], lex_bot)
    responses = read_lambda_responses(lambda_responses)
    color = False if no_color else None
    reporter = ConsoleReporter(quiet=quiet, verbose=verbose, color=color, total=len(jobs))
    store = open_or_exit(open_store, db or settings["RESULTS_DB"])
    reporter.start()      # here, on the main thread: live runs report from webhook threads
    signals, failure = StopSignals(), None
    with signals:
        try:
            result = execute(jobs, store, settings, reporter, seed=seed, noise=noise,
                             concurrency=concurrency, hours_open=hours == "open",
                             lambda_responses=responses)
        except StorageError as exc:
            failure = exc
        except IvrTestError as exc:
            fail(str(exc))
        finally:
            with signals.deferred():
                reporter.close()
                store.close()
    if signals.stopped:
        exit_stopped(signals.stopped, store)
    if failure or store.failure:
        exit_storage_failure(failure or store.failure, store)
    report(result, color)
    if junit_path:
        from app.junit import write_junit
        write_junit(result.documents, junit_path)
        click.echo(f"JUnit XML: {junit_path}")
    sys.exit(exit_code(result.documents, errors))


def execute(jobs, store, settings, reporter, **options):
    """Run offline jobs on the virtual network, then live ones through Twilio."""
    from app.runner import OfflineResult, OfflineRunner
    offline = [job for job in jobs if job.target.offline]
    live = [job for job in jobs if not job.target.offline]
    result = OfflineResult([])
    if offline:
        result = OfflineRunner(store, reporter=reporter, **options).run(offline)
    if live:
        from app.live import run_live
        live_result = run_live(live, store, settings, reporter, concurrency=options["concurrency"])
        result.documents.extend(live_result.documents)
    return result


def exit_code(documents, suite_errors=()):
    """2 for bad input (a broken suite, a run that could not start), 1 if any failed, else 0."""
    if suite_errors or any(doc["status"] == "error" for doc in documents):
        return EXIT_BAD_INPUT
    return EXIT_OK if all(doc["status"] == "complete" for doc in documents) else EXIT_FAILED


def make_jobs(suites, cli_target, env_target, lex_bot):
    from app.runner import Job
    try:
        return [Job(s, resolve_target(cli_target, s.target, env_target, lex_bot)) for s in suites]
    except IvrTestError as exc:
        fail(str(exc))


def read_lambda_responses(path):
    if not path:
        return None
    from app import limits
    try:
        data = limits.read_json(path, ConfigError)
    except (OSError, ValueError, ConfigError) as exc:
        fail(f"{path}: cannot read Lambda responses: {exc}")
    if not isinstance(data, dict):
        fail(f"{path}: expected an object mapping a function name or ARN to its response")
    return data


def report(result, color=None):
    print_summary(result.documents, result.coverage, color=color)
    if result.virtual_seconds:
        click.echo(f"simulated {result.virtual_seconds:.1f} s of calls in {result.wall_seconds:.2f} s")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, help="Default: PORT or 5000.")
@click.option("--suites", "suite_paths", multiple=True, type=click.Path(),
              help="Suites queued for calls placed by another tool (default: testSuite/).")
@click.option("--db", type=click.Path())
def serve(host, port, suite_paths, db):
    """Serve the webhooks; calls placed elsewhere take the queued suites in order."""
    from waitress import serve as waitress_serve

    from app import SERVER_OPTIONS, create_app, raise_open_files_limit
    raise_open_files_limit()
    settings = settings_or_exit()
    loaded, errors = load_suites(suite_paths or [DEFAULT_SUITES])
    for error in errors:
        click.echo(f"error: {error}", err=True)
    store = open_or_exit(open_store, db or settings["RESULTS_DB"])
    try:
        app = create_app({"STORE": store})
    except IvrTestError as exc:
        store.close()
        fail(str(exc))
    for suite in loaded:
        app.extensions["runs"].create(suite, target="serve", extra={"mode": "serve"}, queue=True)
    port = port or settings["PORT"]
    public = settings["PUBLIC_URL"] or f"http://{host}:{port}"
    click.echo(f"{len(loaded)} suite(s) queued. Webhooks: {public}/voice  {public}/status")
    if not settings["TWILIO_AUTH_TOKEN"]:
        click.echo("warning: TWILIO_AUTH_TOKEN is not set, so requests are not signature-checked")
    signals = StopSignals()
    with signals:
        try:                # waitress finishes the requests in flight, then returns
            waitress_serve(app, host=host, port=port, **SERVER_OPTIONS)
        finally:
            with signals.deferred():
                store.close()
    if signals.stopped:
        exit_stopped(signals.stopped, store)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
def validate(paths):
    """Check suite files; exits 2 on any error."""
    loaded, errors = load_suites(paths or [DEFAULT_SUITES])
    for suite in loaded:
        click.echo(f"ok  {suite.path} ({len(suite.steps)} steps)")
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if errors or not loaded:
        if not errors:
            click.echo("error: no suite files found", err=True)
        sys.exit(EXIT_BAD_INPUT)


@cli.command("report")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write one static HTML page.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), help="Write JUnit XML.")
@click.option("--last", default=50, show_default=True, help="How many recent runs.")
@click.option("--db", type=click.Path())
def report_command(html_path, junit_path, last, db):
    """Write recent runs as a static HTML page and/or JUnit XML."""
    if not html_path and not junit_path:
        fail("nothing to write: pass --html FILE and/or --junit FILE")
    docs = read_runs(db, last)
    if html_path:
        from app.dashboard import write_html_report
        write_html_report(docs, html_path)
        click.echo(f"HTML report: {html_path} ({len(docs)} runs)")
    if junit_path:
        from app.junit import write_junit
        write_junit(docs, junit_path)
        click.echo(f"JUnit XML: {junit_path} ({len(docs)} runs)")


def read_runs(db, last):
    from app.store import ResultStore
    settings = settings_or_exit()
    try:
        store = ResultStore(Path(db or settings["RESULTS_DB"]), readonly=True)
        try:
            return store.runs(last=last)
        finally:
            store.close()
    except IvrTestError as exc:
        fail(str(exc))


@cli.command()
@click.option("--last", default=20, show_default=True, help="How many runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.option("--db", type=click.Path())
def results(last, as_json, db):
    """Print recent runs."""
    docs = read_runs(db, last)
    if as_json:
        click.echo(json.dumps(docs, indent=2))
        return
    if not docs:
        click.echo("no runs yet")
        return
    for doc in docs:        # str(): a stored document may hold any type
        click.echo(f"{str(doc.get('startTimestamp', ''))[:19]}  {str(doc.get('status')):<11}  "
                   f"{doc.get('passedSteps', 0)}/{doc.get('totalSteps', 0)}  {doc.get('suite', '')}"
                   f"  {doc.get('target') or ''}")
