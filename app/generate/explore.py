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

import re
from dataclasses import dataclass, field

from app.generate.play import play
from app.matching import normalize

DEFAULT_MAX_DEPTH = 8
DEFAULT_MAX_CALLS = 3000
MAX_LOOP_TURNS = 6     # a loop is followed until it ends or repeats this often (Connect's Loop
                       # blocks count a few turns; a menu that repeats forever has no end to find)


def listening_point(heard):
    """Where a call stopped to listen, told by the last two sentences the IVR said: the same
    menu after "Sorry, ..." or after "Welcome, ..." is the same listening point."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", (heard or "").strip()) if s]
    return normalize(" ".join(sentences[-2:]))


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
    parent: object = field(default=None, repr=False, compare=False)
    probing: str | None = None    # the listening point this node's children probe in full

    def child(self, probe, scenario=None):
        return Node(scenario or self.scenario, self.probes + (probe,), parent=self)

    @property
    def point(self):
        return listening_point(self.windows[-1])

    def answer(self):
        """What the last action changed: the IVR's answer, and the branches it took."""
        before = self.parent.branches if self.parent else frozenset()
        return self.texts[-1], self.branches - before

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
        points = [""] + [listening_point(w) for w in self.windows[:-1]]
        return {("answer", point, text) for point, text in zip(points, self.texts)}


class Explorer:
    """Explores `target` with the caller actions `probes` offers; see the module doc."""

    def __init__(self, target, probes, timeout, flow_mode, max_depth=DEFAULT_MAX_DEPTH,
                 max_calls=DEFAULT_MAX_CALLS):
        self.target, self.probes, self.timeout, self.flow_mode = target, probes, timeout, flow_mode
        self.max_depth, self.max_calls = max_depth, max_calls
        self.nodes, self.calls, self.truncated = [], 0, False
        self._seen = set()
        self._classes = {}    # listening point -> one action per distinct answer, learned once
        self._loops = {}      # (listening point, action) -> the path that follows that loop

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
            self._learn(frontier)
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
            known = self._classes.get(node.point)
            if known is None:
                node.probing = node.point
                known = self.probes.at(node.windows[-1])
            return [node.child(p) for p in known]
        if node.in_loop and node.texts.count(node.texts[-1]) < MAX_LOOP_TURNS:
            loop = (node.point, node.probes[-1].then)
            owner = self._loops.setdefault(loop, node.probes[:-1])
            if node.probes[:len(owner)] == owner:      # one path follows each loop to its end
                return [node.child(node.probes[-1])]
        return []

    def _learn(self, played):
        """Actions that got the same answer at a listening point are one class: later visits to
        that point try one action of each class (the first tried, so "no input" before "#")."""
        by_parent = {}
        for node in played:
            if node.parent is not None and node.parent.probing:
                by_parent.setdefault(id(node.parent), (node.parent, []))[1].append(node)
        for parent, children in by_parent.values():
            if parent.probing in self._classes:
                continue
            seen, reps = set(), []
            for child in children:
                key = child.answer() if child.usable else ("unusable", child.probes[-1].then)
                if key not in seen:
                    seen.add(key)
                    reps.append(child.probes[-1])
            self._classes[parent.probing] = reps

    def _is_novel(self, node):
        found = node.items(self.flow_mode) | {("text", t) for t in node.texts}
        new = found - self._seen
        self._seen |= found
        return bool(new)
