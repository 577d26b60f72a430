"""What a flow change changes for the caller: the old flow's generated suites played on the new
flow, path by path ("press 2 now says ... instead of ...").

Both directions are played: the old flow's paths on the new flow show changed and lost
behaviour, the new flow's paths on the old flow show paths the change added. Each difference is
reported once, at the first step of a path where what the IVR says differs (normalized: case,
punctuation and number spelling do not count), with the caller actions that lead there; a path
whose words are the same but whose call ends otherwise (another queue, a hang-up instead of a
transfer) is reported with both endings.
"""
from dataclasses import dataclass

from app.generate.pipeline import generate
from app.generate.play import play
from app.matching import normalize


@dataclass(frozen=True)
class Change:
    path: tuple          # caller action labels before the step that differs
    condition: str       # the scenario's label ("hours closed"), or ""
    old: str | None      # what the old flow says there (None: nothing, the call had ended)
    new: str | None

    ending: bool = False  # old/new are how the call ends ("transferred to queue X"), not words

    def line(self):
        where = ", ".join(self.path) or "at the start"
        if self.condition:
            where += f" ({self.condition})"
        if self.ending:
            return f"{where}: the call now ends {self.new!r} instead of {self.old!r}"
        if self.new is None:
            return f"{where}: now says nothing (the call ends) instead of {self.old!r}"
        if self.old is None:
            return f"{where}: now says {self.new!r} where the call used to end"
        return f"{where}: now says {self.new!r} instead of {self.old!r}"


def played_differences(gen, other_target, swap=False):
    """Run `gen`'s suites against another target; the first difference of each, as Changes."""
    suites = [{k: v for k, v in suite.items() if k not in ("target", "lexBot")} for suite in gen.suites]
    documents, _ = play(other_target, suites)
    changes = []
    for suite, node, doc in zip(gen.suites, gen.nodes, documents):
        heard = [r.get("actualResult") for r in (doc or {}).get("results", [])]
        labels = [p.label for p in node.probes]
        for index, step in enumerate(suite["steps"]):
            expected = step["expect"][0]
            now = heard[index] if index < len(heard) else None
            if normalize(now or "") != normalize(expected):
                old, new = (now, expected) if swap else (expected, now)
                changes.append(Change(tuple(labels[:index]), node.scenario.label, old, new))
                break
        else:
            ends = (node.outcome, (doc or {}).get("ivrOutcome"))
            if ends[0] != ends[1]:
                old, new = ends[::-1] if swap else ends
                changes.append(Change(tuple(labels), node.scenario.label, old, new, ending=True))
    return changes


def diff(old_target, new_target, **options):
    """[Change] between two targets (flows or apps), each path once."""
    old_gen = generate(old_target, **options)
    new_gen = generate(new_target, **options)
    changes = played_differences(old_gen, new_target) + played_differences(new_gen, old_target, swap=True)
    seen, out = set(), []
    for change in changes:
        key = (change.path, normalize(change.old or ""), normalize(change.new or ""))
        if key not in seen:
            seen.add(key)
            out.append(change)
    return out, old_gen, new_gen



