"""Blocks that move between flows: Transfer to flow (TransferToFlow, the older Transfer to a flow),
Invoke module (InvokeFlowModule) and its return (EndFlowModuleExecution), and End flow / Resume
(EndFlowExecution, the older Resume).

The other flows come from the target's folder (`leg.library`, a `connect_library.FlowLibrary`),
found by ARN, id or name. A flow or module that is not there ends the call, saying which, rather
than taking the Error branch: the instance would have it, the folder does not.
"""


def _find(leg, block, param):
    ref = leg.value(block.params.get(param)) or block.params.get(param + "Name")
    if not ref:
        leg.finish(f"block '{block.id}' ({block.source_type}) names no flow ({param} is empty)")
        return None
    if leg.library is None:
        leg.finish(f"{block.source_type} to flow {ref}: the target is one flow file; "
                   "give the folder of the instance's flows as the target to follow transfers")
        return None
    flow, problem = leg.library.find(ref, also=block.params.get(param + "Name"))
    if flow is None:
        leg.finish(f"{block.source_type} to flow {ref}: {problem}")
    return flow


def transfer_to_flow(leg, block):
    """The contact goes on in another flow, from its start; this flow is done."""
    flow = _find(leg, block, "ContactFlowId")
    if flow is not None:
        leg.switch_flow(flow)


def invoke_module(leg, block):
    """Run a flow module; its EndFlowModuleExecution comes back to this block's Success."""
    module = _find(leg, block, "FlowModuleId")
    if module is not None:
        leg.switch_flow(module, returning_to=block)


def end_module(leg, block):
    """Return from a module to the block after its InvokeFlowModule."""
    if not leg.returns:
        leg.finish("flow module ended")
        return
    flow, invoking = leg.returns.pop()
    leg.flow = flow
    leg.next(invoking)


def end_flow(leg, block):
    """End flow / Resume: nothing follows for this contact in the simulation, so the call ends."""
    leg.finish(f"flow ended ({block.source_type})")


HANDLERS = {
    "TransferToFlow": transfer_to_flow,
    "InvokeFlowModule": invoke_module,
    "EndFlowModuleExecution": end_module,
    "EndFlowExecution": end_flow,
    "ResumeContact": end_flow,
}
