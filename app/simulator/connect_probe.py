"""A flow played to a caller who says nothing: does it load, what does it say first, how does it end.

This is the cheapest check that a flow export works in the simulator, before any suite is
written for it: `python main.py flows PATH --play` prints it for every flow, the real-export
tests assert it, and bench/connect_corpus.py measures it over a corpus.
"""
from dataclasses import dataclass, field

from app.errors import FlowError
from app.simulator.clock import VirtualClock
from app.simulator.connect_leg import ConnectFlowLeg
from app.simulator.connect_library import load_target
from app.simulator.line import Endpoint, Line

PROBE_SECONDS = 300
PROBE_BLOCKS = 300


class SilentCaller(Endpoint):
    """Listens, presses nothing, says nothing."""

    name = "caller"

    def __init__(self):
        self.heard = []

    def on_speech_end(self, transcript, confidence):
        self.heard.append(transcript)


class SilentBot:
    """A Lex stand-in that understands nothing, so Lex blocks play their prompt and go on."""

    def new_session(self, attributes=None):
        return self

    def turn(self, utterance):
        return _Failed()


@dataclass
class _Failed:
    state: str = "Failed"
    message: str | None = None
    intent: str | None = None
    slots: dict = field(default_factory=dict)
    done: bool = True


@dataclass
class Probe:
    """What one flow did for a silent caller."""
    path: str
    loaded: bool
    error: str | None = None
    heard: list = field(default_factory=list)
    outcome: str | None = None
    blocks_run: int = 0
    unmodelled: int = 0

    @property
    def first_prompt(self):
        return self.heard[0] if self.heard else None


def probe(path, lex_bot=None, seconds=PROBE_SECONDS):
    """Load the flow at `path` (with its folder as the library) and play it to a silent caller."""
    try:
        flow, library = load_target(path)
    except FlowError as exc:
        return Probe(str(path), loaded=False, error=str(exc))
    clock = VirtualClock()
    line = Line(clock, call_id=f"probe:{path}")
    caller = SilentCaller()
    ivr = ConnectFlowLeg(clock, line, flow, library=library, lex_bot=lex_bot or SilentBot(),
                         max_blocks=PROBE_BLOCKS)
    line.connect(caller, ivr)
    clock.run(until=seconds)
    if not line.closed:
        line.hangup(None, f"probe stopped after {seconds} s")
    return Probe(str(path), True, heard=caller.heard, outcome=ivr.outcome, blocks_run=ivr.blocks_run,
                 unmodelled=len(flow.unmodelled))
