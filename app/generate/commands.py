"""The commands of suite generation: `generate`, `snapshot`, `rejudge` and `diff`.

Each is registered on the main command group by one line in `app/cli.py`; helpers of that
module are imported inside the functions, so importing this module never imports the CLI.
"""
import sys

import click

from app.errors import IvrTestError


def _fail(message):
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _target(text, lex_bot):
    from app.targets import parse_target, resolve_target
    try:
        return parse_target(text, lex_bot) if text else resolve_target(lex_bot=lex_bot)
    except IvrTestError as exc:
        _fail(str(exc))


@click.command("generate")
@click.argument("target", required=False)
@click.option("--lex-bot", type=click.Path(), help="Lex bot export the flow's Lex blocks use.")
@click.option("-o", "--out", "out_dir", default="generated", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write the suites to.")
@click.option("--max-suites", type=click.IntRange(min=1), help="Write at most this many suites.")
@click.option("--max-depth", default=8, show_default=True, type=click.IntRange(min=1),
              help="At most this many caller actions per call.")
@click.option("--no-verify", is_flag=True, help="Do not run the written suites to check them.")
def generate_command(target, lex_bot, out_dir, max_suites, max_depth, no_verify):
    """Explore a flow (default: the sample) or twiml:URL and write suites reaching every branch."""
    from app.generate.pipeline import branch_text, generate, verify, write
    resolved = _target(target, lex_bot)
    try:
        gen = generate(resolved, max_suites=max_suites, max_depth=max_depth)
    except IvrTestError as exc:
        _fail(str(exc))
    if not gen.suites:
        click.echo(f"error: no call heard anything from {resolved} within {gen.timeout:g} s of silence; "
                   "nothing to generate", err=True)
        sys.exit(1)
    paths = write(gen, out_dir)
    click.echo(f"explored {gen.calls} calls in {gen.seconds:.2f} s; wrote {len(paths)} suites to {out_dir}/ "
               f"(timeout {gen.timeout:g} s per step)")
    for path, suite in zip(paths, gen.suites):
        click.echo(f"  {path.name}: {suite['name']}")
    if gen.truncated:
        click.echo("note: the search stopped at its call limit; some branches may be missing")
    if gen.unreachable:
        click.echo(f"{len(gen.unreachable)} branches no caller reaches offline:")
        for branch, reason in gen.unreachable:
            click.echo(f"  {branch_text(branch)}: {reason}")
    if no_verify:
        return
    check = verify(gen, paths)
    for doc in check.failed:
        click.echo(f"FAILED  {doc.get('file')}: {doc.get('endReason') or doc.get('status')}")
    click.echo(f"verified: {len(check.documents) - len(check.failed)}/{len(check.documents)} suites pass; "
               f"coverage: {len(check.covered)}/{len(check.reachable)} reachable {gen.unit} "
               f"({check.percent:.0f}%)")
    sys.exit(1 if check.failed or check.percent < 100 else 0)


def _runs(db, run_ids):
    """The stored runs, in the order asked; an unknown id is bad input (exit 2)."""
    from app.cli import setup
    from app.store import ResultStore
    path = setup().results_path(db)
    store = ResultStore(path)
    try:
        docs = [store.get(run_id) for run_id in run_ids]
    finally:
        store.close()
    missing = [run_id for run_id, doc in zip(run_ids, docs) if doc is None]
    if missing:
        _fail(f"no run {', '.join(missing)} in {path} (see `python main.py results`)")
    return docs


@click.command("snapshot")
@click.argument("run_id")
@click.option("-o", "--out", "out_file", type=click.Path(dir_okay=False),
              help="Suite file to write (default: print it).")
@click.option("--db", type=click.Path(), help="Results database (default RESULTS_DB or results/db.json).")
def snapshot_command(run_id, out_file, db):
    """Turn a stored run (offline or live) into a suite: heard -> expect, done -> then."""
    import json
    from pathlib import Path

    from app.snapshot import snapshot
    doc = _runs(db, [run_id])[0]
    try:
        suite = snapshot(doc)
    except (ValueError, IvrTestError) as exc:
        _fail(str(exc))
    if not out_file:
        click.echo(json.dumps(suite, indent=2, ensure_ascii=False) + "\n", nl=False)
        return
    from app.generate.pipeline import relative_paths
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(relative_paths(suite, Path(out_file).parent), indent=2, ensure_ascii=False) + "\n"
    Path(out_file).write_text(text, encoding="utf-8")
    click.echo(f"wrote {out_file}: {len(suite['steps'])} steps from run {run_id}")


@click.command("rejudge")
@click.argument("args", nargs=-1, required=True, metavar="RUN_ID... [SUITE]")
@click.option("--db", type=click.Path(), help="Results database (default RESULTS_DB or results/db.json).")
def rejudge_command(args, db):
    """Judge stored runs again against a suite (default: each run's own file), without a call."""
    from pathlib import Path

    from app.rejudge import rejudge, would_fail
    from app.suite import load_suite, parse_suite
    suite_path = args[-1] if len(args) > 1 and (args[-1].endswith(".json") or Path(args[-1]).is_file()) else None
    run_ids = list(args[:-1] if suite_path else args)
    try:
        given = load_suite(suite_path) if suite_path else None
    except IvrTestError as exc:
        _fail(str(exc))
    failing = 0
    for doc in _runs(db, run_ids):
        try:
            suite = given or _suite_of(doc, load_suite, parse_suite)
        except IvrTestError as exc:
            _fail(str(exc))
        verdicts = rejudge(doc, suite)
        bad = would_fail(verdicts)
        failing += bad
        click.echo(f"run {doc['unique_id']} ({doc.get('suite')}, was {doc.get('status')}) against {suite.path}: "
                   f"{'would FAIL' if bad else 'would pass'}")
        for verdict in verdicts:
            if verdict.now is not True or not verdict.was:
                click.echo(f"  {verdict.line()}")
    click.echo(f"{failing} of {len(run_ids)} runs would fail")
    sys.exit(1 if failing else 0)


def _suite_of(doc, load_suite, parse_suite):
    """A run's own suite: its file as it is now, or else the steps stored with the run."""
    from pathlib import Path
    path = doc.get("file")
    if path and Path(path).is_file():
        return load_suite(path)
    return parse_suite(doc.get("instructions") or [], f"run {doc['unique_id']} (stored steps)")


@click.command("diff")
@click.argument("old_flow")
@click.argument("new_flow")
@click.option("--lex-bot", type=click.Path(), help="Lex bot export both flows use.")
@click.option("--max-depth", default=8, show_default=True, type=click.IntRange(min=1))
def diff_command(old_flow, new_flow, lex_bot, max_depth):
    """What changed for the caller between two flows (or twiml: apps), path by path; exit 1 if any."""
    from app.flowdiff import diff
    old, new = _target(old_flow, lex_bot), _target(new_flow, lex_bot)
    try:
        changes, old_gen, new_gen = diff(old, new, max_depth=max_depth)
    except IvrTestError as exc:
        _fail(str(exc))
    paths = len(old_gen.suites) + len(new_gen.suites)
    for change in changes:
        click.echo(change.line())
    if changes:
        click.echo(f"{len(changes)} change(s) for the caller ({paths} paths played both ways)")
        sys.exit(1)
    click.echo(f"no change for the caller on {paths} paths played both ways")
