"""The fewest explored calls that together cover everything reached, and why the rest cannot be.

Greedy set cover: take the call that covers the most not yet covered, ties to the shorter call
and then the one found first; repeat. Greedy is within a log factor of the smallest cover, and
explored calls are few, so this stays instant.
"""


def choose(nodes, flow_mode, max_suites=None):
    """Returns (chosen nodes, every item reached)."""
    reached = set().union(*(node.items(flow_mode) for node in nodes)) if nodes else set()
    left, chosen = set(reached), []
    candidates = list(enumerate(nodes))
    while left and (max_suites is None or len(chosen) < max_suites):
        index, best = max(candidates, key=lambda c: (len(c[1].items(flow_mode) & left),
                                                      -len(c[1].probes), -c[0]))
        gain = best.items(flow_mode) & left
        if not gain:
            break
        chosen.append(best)
        left -= gain
    return _shorten(chosen, nodes, flow_mode), reached


def _shorten(chosen, nodes, flow_mode):
    """Greedy takes long calls early; once all are chosen, each is replaced by the shortest call
    that still covers what no other chosen call does ("press 2" rather than "press 9, press 2"),
    and a call left covering nothing of its own is dropped."""
    order = {id(node): index for index, node in enumerate(nodes)}
    result, index = list(chosen), 0
    while index < len(result):
        others = set().union(*(n.items(flow_mode) for j, n in enumerate(result) if j != index))
        needed = result[index].items(flow_mode) - others
        if not needed:
            del result[index]
            continue
        result[index] = min((n for n in nodes if needed <= n.items(flow_mode)),
                            key=lambda n: (len(n.probes), order[id(n)]))
        index += 1
    return result


# Why a branch no caller reaches offline cannot be reached, by the block type it leaves.
_TYPE_REASONS = {
    ("TransferContactToQueue", "QueueAtCapacity"): "queues never fill up offline",
    ("TransferContactToQueue", "Error"): "a transfer to a queue cannot fail offline",
    ("UpdateContactTargetQueue", "Error"): "the queue is set from a fixed value, so setting it cannot fail",
    ("CheckHoursOfOperation", "Error"): "opening hours are always known offline (open or closed)",
    ("UpdateContactAttributes", "Error"): "setting attributes cannot fail offline",
}


def unreachable(flow, reached_branches, max_depth, truncated=False, bot=None):
    """[(branch, reason)] for every branch of the flow no explored call took."""
    fallback = any(getattr(i, "is_fallback", False) for i in getattr(bot, "intents", {}).values())
    visited = {b for branch in reached_branches for b in (branch[0], branch[2])} | {flow.start}
    out = []
    for branch in flow.branches:
        if branch in reached_branches:
            continue
        out.append((branch, _reason(flow, branch, visited, max_depth, truncated, fallback)))
    return out


def _reason(flow, branch, visited, max_depth, truncated, fallback=False):
    source, label, _target = branch
    block = flow.blocks[source]
    if source not in visited:
        return f"block '{source}' is never reached"
    lex = getattr(block, "is_lex", False)
    if lex and label == "NoMatchingCondition":
        return "the bot fulfils no intent that lacks a condition here"
    if lex and label == "Error" and fallback:
        return "the bot never fails: what it cannot place goes to its fallback intent"
    if lex and label.startswith("intent:"):
        return f"the bot has no intent {label[7:]!r}, or no utterance tried reaches it"
    if label == "Error" and len(getattr(block, "errors", {}) or {}) > 1:
        return "catch-all error: every error this block raises offline has a branch of its own"
    if (block.type, label) in _TYPE_REASONS:
        return _TYPE_REASONS[(block.type, label)]
    if block.type == "Compare":
        return "no value tried for the compared attribute reaches it"
    limit = "search stopped at its call limit" if truncated else f"not within --max-depth {max_depth}"
    return f"no caller action or condition tried reaches it ({limit})"
