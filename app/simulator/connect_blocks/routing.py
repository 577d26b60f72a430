"""Blocks that decide where the contact goes: Loop, Check hours of operation, Check staffing /
Check queue status (CheckMetricData), Get queue metrics (GetMetricData), Distribute by
percentage, Wait, Set working queue, and the transfers that end the flow's part of the call
(to a queue, an agent, or a phone number), and Disconnect.

The contact centre's live state is not there offline; it comes from options:
- hours: `hours_open` (True/False, or a callable given the HoursOfOperationId);
- staffing: "available" (default: an agent is available, so also staffed and online),
  "staffed", "online" or "none", or a dict of counts by metric name;
- queue status: `queue_metrics` {"NumberOfContactsInQueue": n, "OldestContactInQueueAgeSeconds": s},
  0 and 0 unless given (an empty queue).
Distribute by percentage draws no random number: it takes the branch most callers take (the
largest share), unless `percent_roll` (1-100) says which number Connect drew.
"""
from app.simulator.connect_flow import CATCH_ALL_ERROR, as_bool, as_number

STAFFING_LEVELS = ("available", "staffed", "online", "none")
_AGENT_METRICS = ("NumberOfAgentsAvailable", "NumberOfAgentsStaffed", "NumberOfAgentsOnline")
_LEGACY_STATUS = {"available": "NumberOfAgentsAvailable", "staffed": "NumberOfAgentsStaffed",
                  "online": "NumberOfAgentsOnline"}
# Short metric names some hand-written flows use, by the documented MetricType.
_METRIC_ALIASES = {"AgentsAvailable": "NumberOfAgentsAvailable", "AgentsStaffed": "NumberOfAgentsStaffed",
                   "AgentsOnline": "NumberOfAgentsOnline", "ContactsInQueue": "NumberOfContactsInQueue",
                   "OldestContactAge": "OldestContactInQueueAgeSeconds"}


def queue_name(queue_id):
    """A readable name for a queue reference: the last segment of an ARN or `queue/NAME` path."""
    return str(queue_id).rstrip("/").split("/")[-1]


def disconnect(leg, block):
    leg.finish("disconnected")


def loop(leg, block):
    """Connect's Loop: ContinueLooping LoopCount times, then DoneLooping once, then reset."""
    count = as_number(leg.value(block.params.get("LoopCount")))
    if count is None:
        leg.error(block, CATCH_ALL_ERROR)
        return
    done = leg.loops.get(block.id, 0)
    leg.loops[block.id] = done + 1 if done < count else 0
    leg.route(block, "ContinueLooping" if done < count else "DoneLooping")


def check_hours(leg, block):
    hours = block.params.get("HoursOfOperationId")
    is_open = leg.hours_open(hours) if callable(leg.hours_open) else as_bool(leg.hours_open)
    leg.route(block, "True" if is_open else "False")


def staffing_counts(staffing):
    """Agent counts by metric for a staffing level (see the module doc) or a dict of counts."""
    if isinstance(staffing, dict):
        return {name: as_number(staffing.get(name)) or 0 for name in _AGENT_METRICS}
    level = STAFFING_LEVELS.index(staffing or "available")
    return {name: int(rank >= level) for rank, name in enumerate(_AGENT_METRICS)}


def metric(leg, name):
    """One metric's value for the current contact: agent counts, or the queue's status."""
    if name in _AGENT_METRICS:
        return staffing_counts(leg.staffing)[name]
    return as_number(leg.queue_metrics.get(name)) or 0


def check_metric_data(leg, block):
    """Check staffing / Check queue status: compare the metric with the block's conditions.

    The older CheckStaffing has True/False branches (an agent counted or not); the flow language
    compares the count (NumberGreaterThan 0) and takes NoMatchingCondition otherwise.
    """
    name = block.params.get("MetricType") or _LEGACY_STATUS.get(str(block.params.get("Status", "")).lower())
    name = _METRIC_ALIASES.get(name, name)
    if not name:
        leg.error(block, CATCH_ALL_ERROR)
        return
    value = metric(leg, name)
    if any(set(c.operands) <= {"True", "False"} for c in block.conditions):
        value = "True" if value > 0 else "False"
    leg.route(block, value)


def get_metric_data(leg, block):
    """Get queue metrics: load the metrics as $.Metrics.* references, then Success."""
    agents = staffing_counts(leg.staffing)
    leg.contact.metrics.update({
        "Agents.Available.Count": agents["NumberOfAgentsAvailable"],
        "Agents.Staffed.Count": agents["NumberOfAgentsStaffed"],
        "Agents.Online.Count": agents["NumberOfAgentsOnline"],
        "Queue.Size": metric(leg, "NumberOfContactsInQueue"),
        "Queue.OldestContactAge": metric(leg, "OldestContactInQueueAgeSeconds"),
    })
    leg.next(block)


def percent_roll(block, roll=None):
    """The number (1-100) Distribute by percentage acts on: `roll`, or the middle of the largest
    share. The conditions are a chain of NumberLessThan bounds; what is left is the default."""
    if roll is not None:
        return roll
    bounds = sorted({b for c in block.conditions if (b := as_number(c.operands[0] if c.operands else None))
                     is not None and 1 < b <= 101})
    edges = [1, *bounds, 101]
    shares = [(high - low, -index, low) for index, (low, high) in enumerate(zip(edges, edges[1:]))]
    _, _, low = max(shares)
    return low


def distribute_by_percentage(leg, block):
    leg.route(block, percent_roll(block, leg.percent_roll))


def wait(leg, block):
    """Wait: on a voice contact Connect waits only to keep running (the Continue branch) or for a
    Lambda; a timed wait for the customer to return is for chat, so voice takes the Error branch."""
    leg.error(block, CATCH_ALL_ERROR)


def set_queue(leg, block):
    queue_id = leg.value(block.params.get("QueueId") or block.params.get("AgentId"))
    if not queue_id:
        leg.error(block, CATCH_ALL_ERROR)
        return
    leg.contact.queue_id = str(queue_id)
    leg.contact.queue = block.params.get("QueueName") or queue_name(queue_id)
    leg.next(block)


def transfer_to_queue(leg, block):
    """Transfer ends the simulated call: the caller is in a queue, and nothing more is said."""
    queue_id = leg.value(block.params.get("QueueId"))
    if queue_id:
        leg.contact.queue_id, leg.contact.queue = str(queue_id), queue_name(queue_id)
    if not leg.contact.queue:
        leg.error(block, CATCH_ALL_ERROR)
        return
    leg.finish(f"transferred to queue {leg.contact.queue}")


def transfer_to_agent(leg, block):
    leg.finish("transferred to agent")


def transfer_to_third_party(leg, block):
    """Transfer to phone number: the call leaves the flow, unless it is set to come back
    (ContinueFlowExecution), when Success follows the third party's hangup."""
    number = leg.value(block.params.get("ThirdPartyPhoneNumber"))
    if not number:
        leg.error(block, CATCH_ALL_ERROR)
        return
    if as_bool(block.params.get("ContinueFlowExecution")):
        leg.next(block)
    else:
        leg.finish(f"transferred to {number}")


HANDLERS = {
    "DisconnectParticipant": disconnect,
    "Loop": loop,
    "CheckHoursOfOperation": check_hours,
    "CheckMetricData": check_metric_data,
    "CheckQueueStatus": check_metric_data,
    "GetMetricData": get_metric_data,
    "DistributeByPercentage": distribute_by_percentage,
    "Wait": wait,
    "UpdateContactTargetQueue": set_queue,
    "TransferContactToQueue": transfer_to_queue,
    "DequeueContactAndTransferToQueue": transfer_to_queue,
    "TransferContactToAgent": transfer_to_agent,
    "TransferParticipantToThirdParty": transfer_to_third_party,
}
