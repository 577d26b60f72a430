"""Names for generated suites, after the path they take: "sales: press 1, says alan turing, goodbye".

The topic is what the first menu offers for the first key pressed ("press 1 for sales", "for
Downtown Cinema, press 1"), then each caller action, then how the call ends (the IVR's last
sentence, or a transfer), then the conditions the call needs ("hours closed").
"""
import re

from app.spoken import strip_markup

MAX_ENDING_WORDS = 8
_OFFERS = (r"press\s+{key}\s+(?:for|to)\s+([^.,;:!?]+)", r"for\s+([^.,;:!?]+?),?\s+press\s+{key}\b",
           r"to\s+([^.,;:!?]+?),?\s+press\s+{key}\b")


def topic(first_heard, first_then):
    """What the first menu says the first key is for, or None."""
    if not first_then or not first_then.startswith("press="):
        return None
    key = re.escape(first_then[len("press="):].rstrip("#")[:1])
    text = strip_markup(first_heard or "")
    for pattern in _OFFERS:
        found = re.search(pattern.format(key=key), text, re.IGNORECASE)
        if found:
            return _clean(found.group(1))
    return None


def ending(last_heard, outcome, ended):
    """How the call ends, in a few words."""
    if outcome and str(outcome).startswith("transferred"):
        return "transferred"
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", strip_markup(last_heard or "")) if _clean(s)]
    if not sentences:
        return "silence"
    words = _clean(sentences[-1])
    words = " ".join(words.split()[:MAX_ENDING_WORDS])
    if len(words.split()) <= 2 and len(sentences) > 1:
        words = f"{' '.join(_clean(sentences[-2]).split()[:MAX_ENDING_WORDS])}, {words}"
    if not ended:
        first = " ".join(_clean(sentences[0]).split()[:MAX_ENDING_WORDS])
        return f"hangs up at {first!r}"
    return words


def suite_name(node):
    """The suite's name for an explored call (a `Node`); the topic is that of the last key
    pressed that a menu offered, since that is where the call went."""
    offered = (topic(heard, probe.then) for heard, probe in reversed(list(zip(node.windows, node.probes))))
    head = next((t for t in offered if t), None)
    parts = [p.label for p in node.probes] + [ending(node.windows[-1], node.outcome, node.ended)]
    name = ", ".join(_collapse(parts))
    if node.scenario.label:
        name += f" ({node.scenario.label})"
    return f"{head}: {name}" if head else name


def _collapse(labels):
    """"no input, no input, no input" reads better as "no input x3"."""
    out = []
    for label in labels:
        if out and out[-1][0] == label:
            out[-1][1] += 1
        else:
            out.append([label, 1])
    return [label if count == 1 else f"{label} x{count}" for label, count in out]


def _clean(text):
    return " ".join(re.sub(r"[^\w\s'@-]", " ", text).lower().split())


def file_name(number, name, taken):
    """`03-sales-press-1-says-alan-turing-goodbye.json`, unique among `taken`."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:70].rstrip("-") or "suite"
    candidate = f"{number:02d}-{slug}.json"
    while candidate in taken:
        number += 1
        candidate = f"{number:02d}-{slug}.json"
    taken.add(candidate)
    return candidate


def unique_names(names):
    """Make names unique by numbering repeats: "x", "x (2)"."""
    seen, out = {}, []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out
