"""Blocks that call other services: AWS Lambda function (InvokeLambdaFunction), Create task,
Show view, Check Voice ID, Create callback, Customer profiles, Cases.

Offline, a Lambda answers from `lambda_responses` (by function name or ARN: a dict, or a callable
given the resolved parameters). The others have no service behind them: Create task and Create
callback succeed, and so do Create customer profile and Create case; Get customer profile and
Get case find nothing (NoneFoundError, else Error); Show view is an agent-workspace block, which Connect answers on a voice
contact with its Error branch; Check Voice ID has no Voice ID domain, so it takes Error too.
"""
from app.simulator.connect_flow import CATCH_ALL_ERROR


def lambda_name(arn):
    """`arn:aws:lambda:region:acct:function:NAME[:alias]` -> NAME; anything else unchanged."""
    arn = str(arn)
    return arn.split(":function:", 1)[1].split(":")[0] if ":function:" in arn else arn


def lambda_parameters(block):
    """The parameters a Lambda is sent: `LambdaInvocationAttributes` in current exports,
    `LambdaFunctionParameters` in older ones."""
    return block.params.get("LambdaInvocationAttributes") or block.params.get("LambdaFunctionParameters") or {}


def invoke_lambda(leg, block):
    response = lambda_response(leg, block)
    if not isinstance(response, dict):
        leg.error(block, CATCH_ALL_ERROR)
        return
    leg.contact.external.clear()
    leg.contact.external.update({str(key): value for key, value in response.items()})
    leg.next(block)


def lambda_response(leg, block):
    """The configured answer for the block's function (by ARN or by name); None = failure.

    A callable that raises is a failed invocation, as a crashing Lambda is to Connect.
    """
    arn = str(leg.value(block.params.get("LambdaFunctionARN")) or "")
    answer = leg.lambda_responses.get(arn, leg.lambda_responses.get(lambda_name(arn)))
    if not callable(answer):
        return answer
    params = {key: leg.value(value) for key, value in lambda_parameters(block).items()}
    try:
        return answer(params)
    except Exception:  # noqa: BLE001 - any failure of the stand-in is the Error branch
        return None


def succeed(leg, block):
    """A request to a service that offline always succeeds (a task or a callback is created)."""
    leg.next(block)


def none_found(leg, block):
    """A look-up in a service with no records offline (Customer Profiles, Cases): None found."""
    leg.error(block, "NoneFoundError")


def not_on_voice(leg, block):
    """A block Connect cannot run for a voice contact here: its Error branch."""
    leg.error(block, CATCH_ALL_ERROR)


HANDLERS = {
    "InvokeLambdaFunction": invoke_lambda,
    "CreateTask": succeed,
    "CreateCallbackContact": succeed,
    "CompleteOutboundCall": succeed,
    "CreateCustomerProfile": succeed,
    "CreateCase": succeed,
    "UpdateCase": succeed,
    "CreateWisdomSession": succeed,
    "AssociateContactToCustomerProfile": succeed,
    "UpdateCustomerProfile": succeed,
    "GetCustomerProfile": none_found,
    "GetCustomerProfileObject": none_found,
    "GetCase": none_found,
    "ShowView": not_on_voice,
    "CheckVoiceId": not_on_voice,
}
