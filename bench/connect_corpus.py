"""How many Connect flow exports load and play: `python bench/connect_corpus.py [FOLDER ...]`.

Every *.json under the folders (default: tests/fixtures/real/flows) that is a flow export, and
every flow of a CloudFormation template (*.yaml, *.yml, *.template, or JSON) or a Terraform file
(*.tf, heredoc content) there, is loaded with its folder as the library and played to a silent
caller (app.simulator.connect_probe).
Prints the load rate, how many spoke a prompt, how calls ended, the block types not modelled, and
the wall time. Files that are not flow exports (package.json, ...) are not counted.
"""
import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.errors import FlowError, NotAFlowExport  # noqa: E402
from app.simulator.connect_flow import load_flows  # noqa: E402
from app.simulator.connect_library import SUFFIXES  # noqa: E402
from app.simulator.connect_probe import Probe, probe  # noqa: E402

DEFAULT = ROOT / "tests" / "fixtures" / "real" / "flows"


def is_flow_export(path):
    text = path.read_text(encoding="utf-8-sig", errors="replace")[:200_000]
    return any(key in text for key in ('"Actions"', '"modules"', '"Content"', "Content:", "ContactFlow",
                                          "aws_connect_contact_flow"))


def flows_in(path):
    """The flows a file holds (one, or a template's several), by the name `probe` takes; a file
    that fails to load counts as one flow that did not load."""
    try:
        return [(flow.source, flow) for flow in load_flows(path)]
    except NotAFlowExport:
        return []
    except FlowError as exc:
        return [(str(path), exc)]


def play(name, flow):
    return probe(name) if not isinstance(flow, FlowError) else Probe(name, False, error=str(flow))


def main(folders):
    files = [p for folder in folders for p in sorted(Path(folder).rglob("*"))
             if p.is_file() and p.suffix.lower() in SUFFIXES and is_flow_export(p)]
    found = [entry for path in files for entry in flows_in(path)]
    started = time.perf_counter()
    results = [play(name, flow) for name, flow in found]
    wall = time.perf_counter() - started
    loaded = [r for r in results if r.loaded]
    flows = dict(found)
    ends = collections.Counter((r.outcome or "").split(":")[0].split(" (")[0] for r in loaded)
    unmodelled = collections.Counter(block.type for r in loaded for block in flows[r.path].unmodelled)
    print(f"flow exports: {len(results)} in {len(files)} files in {', '.join(map(str, folders))}")
    print(f"load and play: {len(loaded)}/{len(results)} ({100 * len(loaded) / max(1, len(results)):.0f}%)")
    print(f"spoke a prompt to a silent caller: {sum(bool(r.heard) for r in loaded)}")
    print(f"reached a block not modelled: {sum((r.outcome or '').startswith('unmodelled') for r in loaded)}")
    print("calls ended: " + ", ".join(f"{name} {count}" for name, count in ends.most_common()))
    if unmodelled:
        print("block types not modelled: " + ", ".join(f"{k} ({v})" for k, v in unmodelled.most_common()))
    for r in results:
        if not r.loaded:
            print(f"  did not load: {r.error}")
    print(f"wall time: {wall:.2f} s ({1000 * wall / max(1, len(results)):.1f} ms a flow)")


if __name__ == "__main__":
    main(sys.argv[1:] or [DEFAULT])
