"""The IVR side of a virtual call: an Amazon Connect flow played block by block on a `Line`.

Offline, nobody runs the customer's Connect instance, so this plays it: it speaks the flow's
prompts, waits for digits or speech the way Connect waits, hands speech to a Lex stand-in, and
follows the branch Connect would follow. Every wait is a timer on the virtual clock.

This module is the machinery every block shares: stepping from block to block, taking branches,
speaking, waiting, and ending the call. What each block type does is in `connect_blocks`, one
short handler per type in one table (`connect_blocks.HANDLERS`), grouped by family.

- Branch fallbacks: an error without its own branch takes NoMatchingError (Connect's catch-all);
  with neither, the call ends with outcome "error: ...". A transition to nothing ends the call as
  Connect does, "disconnected".
- A block type without a handler (or a condition operator we do not know) ends the call with
  outcome "unmodelled block: ..." naming it and the block; the flow loads anyway, so blocks that
  are never reached cost nothing.
- `max_blocks` bounds a flow that loops forever (without waiting for the caller): the call ends
  with outcome "block limit reached".
"""
from functools import lru_cache

from app.simulator import connect_blocks
from app.simulator.connect_contact import ContactData
from app.simulator.connect_flow import CATCH_ALL_ERROR, SUCCESS, as_number, error_label
from app.simulator.line import Endpoint
from app.simulator.ssml import spoken_seconds

# A flow says the same prompts on every call: how long each lasts is worked out once (a pure
# function of the text; filled-in prompts vary, hence the bound).
remembered_seconds = lru_cache(maxsize=1024)(spoken_seconds)


class Listen:
    """What the current block is waiting for; a fresh one replaces it whenever a block starts
    (twice a block: slots make that cheap)."""

    __slots__ = ("mode", "prompting", "digits", "terminated", "pending", "session", "turns", "spoke",
                 "limits")

    def __init__(self):
        self.mode = None          # None, "dtmf", "speech" or "interrupt"
        self.prompting = False    # our prompt is still playing (barge-in input is kept for later)
        self.digits = ""
        self.terminated = False
        self.pending = []         # utterances heard while our prompt played
        self.session = None
        self.turns = 0
        self.spoke = False
        self.limits = None        # an input block's digit limits, once read (input.limits)


class ConnectFlowLeg(Endpoint):
    """Plays `flow` as the IVR party on `line`; records coverage and how the call ended.

    `library` finds the other flows and modules a flow transfers to or invokes (a
    `connect_library.FlowLibrary`); `staffing`, `queue_metrics` and `percent_roll` answer the
    blocks that ask about the contact centre's live state or draw a number (see
    `connect_blocks.routing`).
    """

    def __init__(self, clock, line, flow, lex_bot=None, lambda_responses=None, hours_open=True,
                 attributes=None, name="ivr", max_blocks=1000, contact=None, library=None,
                 staffing=None, queue_metrics=None, percent_roll=None):
        self.clock, self.line, self.flow, self.name = clock, line, flow, name
        self.lex_bot, self.hours_open, self.max_blocks = lex_bot, hours_open, max_blocks
        self.lambda_responses = dict(lambda_responses or {})
        self.contact = contact or ContactData()
        self.contact.attributes.update(attributes or {})
        self.library, self.staffing, self.percent_roll = library, staffing, percent_roll
        self.queue_metrics = dict(queue_metrics or {})
        self.logging, self.settings = None, {}
        self.visited_blocks, self.taken_branches = set(), set()
        self.outcome, self.blocks_run = None, 0
        self.loops, self.block, self.returns = {}, None, []
        self._timer, self._step = None, 0
        self.listen, self.caller_speaking = Listen(), False

    # ------------------------------------------------------------------ contact data, by old names

    @property
    def attributes(self):
        return self.contact.attributes

    @property
    def external(self):
        return self.contact.external

    @property
    def stored_input(self):
        return self.contact.stored_input

    @property
    def queue(self):
        return self.contact.queue

    @property
    def voice(self):
        return self.contact.voice

    @property
    def lex_intent(self):
        return self.contact.lex_intent

    @property
    def lex_slots(self):
        return self.contact.lex_slots

    # ------------------------------------------------------------------ line events

    def on_connect(self):
        """Start the flow once the line is up for both parties: a flow that hangs up at once
        must not end the call before the caller's side has answered it."""
        self.clock.call_later(0, self.enter, self.flow.start)

    def on_hangup(self, reason):
        if self.done:
            return
        self.reset_wait()
        by_network = self.line.ended_by is None
        self.outcome = f"call ended: {reason}" if by_network else "caller hung up"

    def on_dtmf(self, digit):
        if not self.done:
            connect_blocks.on_digit(self, digit)

    def on_speech_start(self):
        self.caller_speaking = True
        if self.listen.mode == "speech":
            self.cancel_timer()

    def on_speech_end(self, transcript, confidence):
        self.caller_speaking = False
        if not self.done:
            connect_blocks.on_speech(self, (transcript or "").strip() or None)

    # ------------------------------------------------------------------ stepping through blocks

    @property
    def done(self):
        return self.outcome is not None

    def enter(self, block_id):
        if self.done:
            return
        self.reset_wait()
        if self.blocks_run >= self.max_blocks:
            self.finish("block limit reached")
            return
        flow = self.flow
        block = self.block = flow.blocks[block_id]
        self.blocks_run += 1
        self.visited_blocks.add(block_id)
        unmodelled = flow.unmodelled_blocks[block_id]
        if unmodelled:
            self.finish(f"unmodelled block: {unmodelled}")
            return
        connect_blocks.HANDLERS[block.type](self, block)

    def switch_flow(self, flow, returning_to=None):
        """Go on in another flow (TransferToFlow, InvokeFlowModule), from its start block."""
        if returning_to is not None:
            self.returns.append((self.flow, returning_to))
        self.flow = flow
        self.reset_wait()
        self.clock.call_later(0, self.enter, flow.start)

    def take(self, block, label, target):
        """Follow one branch; the next block starts as its own event, so loops never recurse."""
        if self.done:
            return
        if target is None:
            self.finish("disconnected")
            return
        self.taken_branches.add((block.id, label, target))
        self.reset_wait()
        self.clock.call_later(0, self.enter, target)

    def next(self, block):
        self.take(block, SUCCESS, block.next)

    def route(self, block, value):
        """Take the first condition `value` passes; NoMatchingCondition if there were some."""
        for condition in block.conditions:
            if condition.matches(value):
                self.take(block, condition.label, condition.target)
                return
        if block.conditions:
            self.error(block, "NoMatchingCondition")
        else:
            self.next(block)

    def error(self, block, *kinds):
        kinds = kinds or (CATCH_ALL_ERROR,)
        for kind in (*kinds, CATCH_ALL_ERROR):
            if kind in block.errors:
                self.take(block, error_label(kind), block.errors[kind])
                return
        self.finish(f"error: block '{block.id}' ({block.source_type}) has no branch for {kinds[0]}")

    def finish(self, outcome):
        """End the call from the IVR side; the hangup reason is the outcome."""
        if self.done:
            return
        self.outcome = outcome
        self.reset_wait()
        self.line.hangup(self, outcome)

    # ------------------------------------------------------------------ timers and speech

    def reset_wait(self):
        """Forget the current wait: callbacks scheduled for it will find the step has moved on."""
        self._step += 1
        self.cancel_timer()
        self.listen = Listen()

    def cancel_timer(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def guard(self, fn):
        """`fn`, made to do nothing once the call or the current block has moved on."""
        step = self._step

        def run(*args):
            if not self.done and self._step == step:
                fn(*args)
        return run

    def wait(self, seconds, fn):
        self.cancel_timer()
        self._timer = self.clock.call_later(seconds, self.guard(fn))

    def say(self, text, then):
        """Speak `text` (references filled in), then call `then`; nothing to say calls it now.

        SSML pauses (<break>) and slow <prosody> make the utterance last longer on the line.
        """
        then = self.guard(then)
        text = self.text(text or "")
        if text.strip():
            self.line.say(self, text, on_done=then, duration=remembered_seconds(text))
        else:
            self.clock.call_later(0, then)

    def prompt(self, text, then):
        """Speak a prompt the caller may barge in on."""
        listen = self.listen
        listen.prompting = True

        def done():
            listen.prompting = False
            then()
        self.say(text, done)

    # ------------------------------------------------------------------ values

    def text(self, text):
        """Fill `$.Attributes.x`, `$.External.x`, `$.Channel`, ... into text; unset -> ""."""
        return self.contact.fill(text)

    def value(self, ref):
        """A parameter's value: a whole reference keeps None for "not set", text is filled in."""
        return self.contact.value(ref)

    def seconds(self, ref, default):
        seconds = as_number(self.value(ref))
        return seconds if seconds is not None and seconds >= 0 else default
