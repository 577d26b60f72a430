"""`python main.py flows PATH`: what the simulator makes of Connect flow exports, before a call.

For each flow file (PATH may be a file or a folder, read with its subfolders) it lists the blocks
with their type and branches, marking the ones the simulator does not model: a call that reaches
one ends there, saying so. `--play` also plays each flow to a caller who says nothing (Lex
blocks hear nothing either) and prints what it says first and how the call ends. Files that are not flow exports are skipped; a flow export that does
not load is an error (exit 2), with the message a run would give.
"""
from pathlib import Path

import click

from app.errors import FlowError, NotAFlowExport
from app.simulator.connect_flow import load_flows
from app.simulator.connect_library import SUFFIXES
from app.simulator.connect_probe import probe

UNMODELLED = "NOT MODELLED"


def flow_files(path):
    """The files a PATH names: itself, or every *.json (and CloudFormation *.yaml, *.yml,
    *.template) under a folder."""
    path = Path(path)
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def describe(flow):
    """Lines describing one loaded flow: a heading, then a line per block."""
    unmodelled = {block.id for block in flow.unmodelled}
    title = f" \"{flow.name}\"" if flow.name else ""
    lines = [f"{flow.source}{title}: {flow.format}, {len(flow.blocks)} blocks, "
             f"{len(unmodelled)} not modelled, starts at {flow.start}"]
    for block in flow.blocks.values():
        kind = block.type if block.type == block.source_type else f"{block.source_type} -> {block.type}"
        branches = ", ".join(f"{label} -> {target}" for label, target in block.branches())
        mark = f"  [{UNMODELLED}]" if block.id in unmodelled else ""
        lines.append(f"  {block.id}  {kind}{mark}" + (f"\n      {branches}" if branches else ""))
    return lines


@click.command("flows")
@click.argument("path", type=click.Path(exists=True))
@click.option("--summary", is_flag=True, help="One line per flow, no blocks.")
@click.option("--play", is_flag=True, help="Also play each flow to a silent caller: first prompt and outcome.")
def flows(path, summary, play):
    """List each Connect flow's blocks, marking those the simulator does not model."""
    loaded, failed, skipped = 0, 0, 0
    for file in flow_files(path):
        try:
            found = load_flows(file)
        except NotAFlowExport:
            skipped += 1
            continue
        except FlowError as exc:
            click.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        for flow in found:
            loaded += 1
            lines = describe(flow)
            click.echo("\n".join(lines[:1] if summary else lines))
            if play:
                result = probe(flow.source)
                click.echo(f"  plays: first prompt {result.first_prompt!r}; {result.blocks_run} blocks; "
                           f"ends: {result.outcome}")
    click.echo(f"{loaded} flow(s) loaded, {failed} failed to load, {skipped} other file(s) skipped")
    if failed or not loaded:
        raise SystemExit(2)
