"""Breadth-first exploration of an IVR by placing calls: one call per path of caller actions.

A path is tried as a suite whose steps accept anything heard (`match: any`): each step listens,
then does the path's next action, and a last step listens to the answer. The runner plays the
suites of one depth together on the virtual network; each run's stored results say what the IVR
said in every window, and (for a flow) which branches the call took.

Which paths grow: a call that reached something new (a branch, or words the IVR had not said
before) is extended by every action worth trying where it stopped. A call that reached nothing
new but heard a window it had heard earlier on the same path is in a loop, and only repeats its
last action, to drive the loop to its limit. Everything else stops. Conditions (hours, Lambda
results, attributes) other than the base ones are tried from the first path that reaches a
block they matter to.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.generate.play import play
from app.matching import normalize

DEFAULT_MAX_DEPTH = 8
DEFAULT_MAX_CALLS = 3000


@dataclass
class Node:
    """One path of caller actions under one scenario, and what its call did."""
    scenario: object
    probes: tuple = ()
    windows: list = field(default_factory=list)      # heard text, per step
    branches: frozenset = frozenset()
    blocks: frozenset = frozenset()
    outcome: str | None = None
    ended: bool = False         # the IVR (or the network) ended the call
    usable: bool = False        # every step heard something: a suite can be written from it
    transcript: list = field(default_factory=list)

    def child(self, probe, scenario=None):
        return Node(scenario or self.scenario, self.probes + (probe,))

    def suite(self, timeout, number):
        steps = [{"match": "any", "then": p.then, "timeout": timeout} for p in self.probes]
        steps.append({"match": "any", "then": None, "timeout": timeout})
        return {"name": f"explore {number}", "steps": steps, **self.scenario.conditions}

    def read(self, doc):
        """Take what the call did from its stored run."""
        results = doc.get("results") or []
        self.windows = [r.get("actualResult") for r in results]
        coverage = doc.get("coverage") or {}
        self.branches = frozenset(tuple(b) for b in coverage.get("branches", []))
        self.blocks = frozenset(coverage.get("blocks", []))
        self.transcript = doc.get("transcript") or []
        self.outcome = doc.get("ivrOutcome")
        self.ended = any(e.get("kind") == "hangup" and e.get("party") != "caller" for e in self.transcript)
        self.usable = (doc.get("status") == "complete" and len(self.windows) == len(self.probes) + 1
                       and all(self.windows))

    @property
    def texts(self):
        return [normalize(w or "") for w in self.windows]

    @property
    def in_loop(self):
        texts = self.texts
        return bool(self.probes) and len(texts) > 1 and texts[-1] in texts[:-1]

    def items(self, flow_mode):
        """What this call covers: the flow branches it took, or (for an app without a flow)
        each answer the IVR gave to what it had said before, and how it ended."""
        if flow_mode:
            return set(self.branches)
        texts = self.texts
        out = {("answer", a, b) for a, b in zip([""] + texts, texts)}
        if self.ended:
            out.add(("end", texts[-1], self.outcome or ""))
        return out


class Explorer:
    """Explores `target` with the caller actions `probes` offers; see the module doc."""

    def __init__(self, target, probes, timeout, flow_mode, max_depth=DEFAULT_MAX_DEPTH,
                 max_calls=DEFAULT_MAX_CALLS):
        self.target, self.probes, self.timeout, self.flow_mode = target, probes, timeout, flow_mode
        self.max_depth, self.max_calls = max_depth, max_calls
        self.nodes, self.calls, self.truncated = [], 0, False
        self._seen = set()

    def run(self):
        scenarios = self.probes.scenarios()
        base, variants = scenarios[0], scenarios[1:]
        self._search([Node(base)])
        seeds = []
        for variant in variants:
            first = next((n for n in self.nodes if n.scenario == base and n.blocks & variant.blocks), None)
            if first is not None:
                seeds.append(Node(variant, first.probes))
        self._search(seeds)
        return self.nodes

    def _search(self, frontier):
        while frontier:
            room = self.max_calls - self.calls
            if room <= 0:
                self.truncated = True
                return
            if len(frontier) > room:
                frontier, self.truncated = frontier[:room], True
            self._play(frontier)
            frontier = [child for node in frontier for child in self._grow(node)]

    def _play(self, nodes):
        suites = [node.suite(self.timeout, self.calls + i) for i, node in enumerate(nodes)]
        documents, _ = play(self.target, suites)
        self.calls += len(nodes)
        for node, doc in zip(nodes, documents):
            node.read(doc or {})

    def _grow(self, node):
        if not node.usable:
            return []
        self.nodes.append(node)
        novel = self._is_novel(node)
        if node.ended or len(node.probes) >= self.max_depth:
            return []
        if novel:
            return [node.child(p) for p in self.probes.at(node.windows[-1])]
        if node.in_loop:
            return [node.child(node.probes[-1])]
        return []

    def _is_novel(self, node):
        found = node.items(self.flow_mode) | {("text", t) for t in node.texts}
        new = found - self._seen
        self._seen |= found
        return bool(new)
