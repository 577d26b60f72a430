"""Flow coverage: which blocks and branches of a Connect flow the suites exercised.

A suite set that never takes a flow's error branches has not tested them; this says so.
"""


class Coverage:
    def __init__(self, flow):
        self.block_ids = list(flow.block_ids)
        self.branches = flow.branches
        self.visited, self.taken = set(), set()

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
