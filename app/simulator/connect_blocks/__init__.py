"""What each Amazon Connect block type does on a voice call: one table, type -> handler.

A handler is `handler(leg, block)`: it may speak, wait, set contact data and, in the end, take a
branch (`leg.next`, `leg.route`, `leg.error`) or end the call (`leg.finish`). They are grouped by
family, one module each:

    prompts       MessageParticipant, MessageParticipantIteratively
    input         GetParticipantInput, ConnectParticipantWithLexBot (digits and Lex)
    attributes    UpdateContactAttributes, UpdateFlowAttributes, UpdateContactData, Compare,
                  and settings blocks (voice, logging, recording, event hooks, ...)
    routing       Loop, CheckHoursOfOperation, CheckMetricData, GetMetricData,
                  DistributeByPercentage, Wait, queues, transfers out, DisconnectParticipant
    flows         TransferToFlow, InvokeFlowModule, EndFlowModuleExecution, EndFlowExecution
    integrations  InvokeLambdaFunction, CreateTask, ShowView, CheckVoiceId, ...

Older console exports are translated to these types when loaded (`connect_flow`), so one handler
serves both formats.
"""
from app.simulator.connect_blocks import attributes, flows, input, integrations, prompts, routing

HANDLERS = {**prompts.HANDLERS, **input.HANDLERS, **attributes.HANDLERS, **routing.HANDLERS,
            **flows.HANDLERS, **integrations.HANDLERS}

on_digit = input.on_digit
on_speech = input.on_speech
