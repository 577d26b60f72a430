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
