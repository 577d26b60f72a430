"""Flow coverage: which blocks and branches of a Connect flow the suites exercised.

A suite set that never takes a flow's error branches has not tested them; this says so.
"""


MAX_PATHS_KEPT = 256


class Coverage:
    def __init__(self, flow):
        self.flow = flow
        self.block_ids = list(flow.block_ids)
        self.branches = flow.branches
        self.visited, self.taken = set(), set()
        self._of_path = {}          # (blocks, branches) of one call -> its to_json()

    def of_call(self, visited_blocks, taken_branches):
        """to_json() of the coverage of one call of this flow alone. The calls of a suite mostly
        take the same path, so each path's is made once (2% of an offline call's CPU when made
        every time): the same dict for every call on that path, stored, never changed."""
        key = (frozenset(visited_blocks), frozenset(taken_branches))
        found = self._of_path.get(key)
        if found is None:
            if len(self._of_path) >= MAX_PATHS_KEPT:
                self._of_path.clear()
            one = Coverage(self.flow)
            one.add(*key)
            found = self._of_path[key] = one.to_json()
        return found

    def add(self, visited_blocks, taken_branches):
        self.visited |= set(visited_blocks)
        self.taken |= set(taken_branches)

    @property
    def missed_blocks(self):
        visited = self.visited
        return [block for block in self.block_ids if block not in visited]

    @property
    def missed_branches(self):
        taken = self.taken
        return [branch for branch in self.branches if branch not in taken]

    def summary(self, limit=8):
        blocks = f"{len(self.block_ids) - len(self.missed_blocks)}/{len(self.block_ids)} blocks"
        branches = f"{len(self.branches) - len(self.missed_branches)}/{len(self.branches)} branches"
        missed = [f"{a} -[{label}]-> {b}" for a, label, b in self.missed_branches]
        tail = f"; never reached: {', '.join(missed[:limit])}" if missed else ""
        if len(missed) > limit:
            tail += f" and {len(missed) - limit} more"
        return f"coverage: {blocks}, {branches}{tail}"

    def to_json(self):
        return {"blocks": sorted(self.visited), "branches": sorted(list(b) for b in self.taken),
                "totalBlocks": len(self.block_ids), "totalBranches": len(self.branches),
                "missedBlocks": self.missed_blocks, "missedBranches": [list(b) for b in self.missed_branches]}
