"""Amazon Connect contact flows, read from either export format into one model.

Connect has exported flows in two shapes over the years, and teams have both on disk:

- the flow language (`"Version": "2019-10-30"`, `StartAction`, `Actions` with `Identifier`, `Type`,
  `Parameters`, `Transitions` of `NextAction`, `Conditions`, `Errors`);
- the older console export (`modules` with `id`, `type`, `branches`, `parameters`, `target`),
  read by `connect_legacy`.

Terraform and CDK projects, and `aws connect describe-contact-flow`, keep a flow as a JSON string
under "Content" beside its "Name", "Type" (and "Id", "Arn"); such a file loads as that flow.

Both are read into the same `Flow` of `Block`s, named and shaped like the flow language, so the
interpreter (`connect_leg`) knows one vocabulary. Everything that can be checked without a call is
checked here, at load: a transition to a block that does not exist, a missing start, a number that
is not a number, a part of the wrong JSON type (a list where an object belongs). A broken flow is
a clear `FlowError` naming the block and the field before the call, never a crash or a hang in
the middle of it. A block type the interpreter does not play is not an error: a flow always loads
if it parses, and a call that reaches such a block ends there, naming its type and id.

Exports hold strings ("8", "False"); `as_number` and `as_bool` read them. `Metadata` is layout,
with one exception: the readable queue name the console stores beside a queue ARN, which is what
an outcome like "transferred to queue Support" should say.

Branch labels are the same whichever format a flow came from, so coverage compares across them:
"Success" (NextAction), "Condition:<Operator> <operand>", "intent:<name>" (Lex blocks),
"ContinueLooping"/"DoneLooping" (Loop), "True"/"False" (CheckHoursOfOperation), the result itself
for other blocks with fixed results ("MessagesInterrupted"), "Error"
(NoMatchingError, the catch-all), or the error type itself ("InputTimeLimitExceeded",
"NoMatchingCondition", "QueueAtCapacity").
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from app import limits
from app.errors import FlowError, NotAFlowExport
from app.simulator.connect_templates import YAML_SUFFIXES, is_template, read_yaml, template_flows
from app.simulator.connect_terraform import as_template

SUCCESS = "Success"
CATCH_ALL_ERROR = "NoMatchingError"



def __getattr__(name):
    """`SUPPORTED_TYPES`: the block types the interpreter plays (the keys of its handler table)."""
    if name == "SUPPORTED_TYPES":
        from app.simulator.connect_blocks import HANDLERS
        return frozenset(HANDLERS)
    raise AttributeError(name)


# Operators for Conditions. Legacy exports spell some differently; the brief's short forms
# (Contains, StartsWith) are accepted as well.
OPERATOR_ALIASES = {
    "GreaterThan": "NumberGreaterThan", "GreaterThanOrEqualTo": "NumberGreaterOrEqualTo",
    "LessThan": "NumberLessThan", "LessThanOrEqualTo": "NumberLessOrEqualTo",
    "Contains": "TextContains", "StartsWith": "TextStartsWith", "EndsWith": "TextEndsWith",
    "NumericLessThan": "NumberLessThan", "NumericGreaterThan": "NumberGreaterThan",  # the docs' spelling
}
OPERATORS = frozenset({"Equals", "NumberGreaterThan", "NumberGreaterOrEqualTo", "NumberLessThan",
                       "NumberLessOrEqualTo", "TextContains", "TextStartsWith", "TextEndsWith"})

_DIGIT = re.compile(r"\d")     # every finite number float() reads has a (Unicode) decimal digit
_TRUE, _FALSE = {"true", "yes", "1", "enable", "enabled"}, {"false", "no", "0", "disable", "disabled", ""}


def as_number(value):
    """A finite number from an export value ("8", "2.5", 8), or None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str) and not _DIGIT.search(value):
        return None     # no digit, no finite number (and no ValueError raised to say so)
    return parsed_number(value)


def parsed_number(value):
    """`as_number` by parsing alone, without its shortcut for text that holds no digit."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value if isinstance(value, (int, float)) else str(value).strip())
    except (ValueError, OverflowError):
        return None
    if not math.isfinite(number):
        return None
    if isinstance(value, (int, float)):
        return value
    return int(number) if number.is_integer() else number


def as_bool(value, default=False):
    """A boolean from an export value ("True", "False", true); None and unknowns give `default`."""
    if isinstance(value, bool):
        return value
    if value is None:
        return default
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else default


def is_dynamic(value):
    """Whether an export value is a reference ($.Attributes.x) resolved only during the call."""
    return isinstance(value, str) and value.strip().startswith("$.")


def error_label(error_type):
    """The coverage label of an error branch: the catch-all reads "Error", others their type."""
    return "Error" if error_type == CATCH_ALL_ERROR else error_type


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Condition:
    """One conditional branch: taken when the block's result passes `operator` on an operand."""
    operator: str
    operands: tuple[str, ...]
    target: str
    label: str

    def matches(self, value):
        """Whether the block's result (a string, or None) passes this condition."""
        if value is None or self.operator not in OPERATORS:
            return False
        for operand in self.operands:
            if _passes(self.operator, str(value), str(operand)):
                return True
        return False


def _passes(operator, value, operand):
    """Number operators compare numbers ("8" > "10" is false); text operators compare text."""
    if operator == "Equals":
        if value == operand:        # the usual case, decided without reading numbers
            return True
        left = as_number(value)
        return left is not None and left == as_number(operand)
    if operator.startswith("Number"):
        left, right = as_number(value), as_number(operand)
        if left is None or right is None:
            return False
        return {"NumberGreaterThan": left > right, "NumberGreaterOrEqualTo": left >= right,
                "NumberLessThan": left < right, "NumberLessOrEqualTo": left <= right}[operator]
    if operator == "TextContains":
        return operand in value
    if operator == "TextStartsWith":
        return value.startswith(operand)
    return value.endswith(operand)


@dataclass
class Block:
    """One step of a flow, in flow-language terms whatever the file's format."""
    id: str
    type: str
    params: dict = field(default_factory=dict)
    next: str | None = None
    conditions: list[Condition] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    source_type: str = ""

    @property
    def is_lex(self):
        """A Lex block hands the caller's speech to a bot instead of collecting digits."""
        return self.type == "ConnectParticipantWithLexBot" or (
            self.type == "GetParticipantInput" and ("LexBot" in self.params or "LexV2Bot" in self.params))

    @property
    def lex_bot_name(self):
        """The bot's name (V1 `LexBot.Name`) or, for V2, its alias ARN."""
        v1, v2 = self.params.get("LexBot") or {}, self.params.get("LexV2Bot") or {}
        return v1.get("Name") or v2.get("AliasArn") or None

    @property
    def unmodelled(self):
        """Why the interpreter cannot play this block (a type or an operator it does not know),
        or None when it can."""
        from app.simulator.connect_blocks import HANDLERS
        if self.type not in HANDLERS:
            return f"type '{self.source_type}' (id '{self.id}') is not simulated"
        for condition in self.conditions:
            if condition.operator not in OPERATORS:
                return (f"condition operator '{condition.operator}' in block '{self.id}' "
                        f"({self.source_type}) is not simulated")
        return None

    def branches(self):
        """Every (label, target) leaving this block, in the order they are tried."""
        out = [(c.label, c.target) for c in self.conditions]
        out += [(error_label(kind), target) for kind, target in self.errors.items()]
        if self.next is not None:
            out.append((SUCCESS, self.next))
        return out


@dataclass
class Flow:
    """A loaded flow: blocks by id, where it starts, and where it came from."""
    start: str
    blocks: dict[str, Block]
    source: str = "<flow>"
    format: str = "flow-language"
    name: str | None = None       # the flow's name in the instance, when the file says it
    flow_id: str | None = None
    arn: str | None = None
    kind: str | None = None       # CONTACT_FLOW, CUSTOMER_QUEUE, ... or a module

    @property
    def unmodelled(self):
        """Blocks the interpreter does not play (see `Block.unmodelled`): reaching one ends the call."""
        return [self.blocks[block_id] for block_id, why in self.unmodelled_blocks.items() if why]

    @cached_property
    def unmodelled_blocks(self):
        """`Block.unmodelled` of every block, by id, worked out once: the interpreter asks at
        every block it enters, and a loaded flow's blocks do not change."""
        return {block_id: block.unmodelled for block_id, block in self.blocks.items()}

    @cached_property
    def block_ids(self):
        return list(self.blocks)

    @cached_property
    def branches(self):
        """Every (from_id, label, to_id) of the flow: what coverage is measured against."""
        return [(block.id, label, target) for block in self.blocks.values()
                for label, target in block.branches()]


# --------------------------------------------------------------------------- JSON types

_EXPECTED = {dict: "an object", list: "a list", str: "a string"}


def _kind_of(value):
    """How a JSON value's type reads in a message: "an object", "a list", "a number", ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return _EXPECTED.get(type(value), type(value).__name__)


def _expect_type(value, kind, where, name, required=False):
    """`value` when it has JSON type `kind` (or is missing/null, unless `required`); otherwise a
    FlowError such as `flow.json: block 'menu' (Compare): "Transitions": expected an object, got a list`."""
    if isinstance(value, kind) or (value is None and not required):
        return value
    raise FlowError(f'{where}: "{name}": expected {_EXPECTED[kind]}, got {_kind_of(value)}')


def _expect_objects(value, where, name):
    """A list of objects (missing/null reads as empty); a bad entry is named by its index."""
    entries = _expect_type(value, list, where, name) or []
    for index, entry in enumerate(entries):
        _expect_type(entry, dict, where, f"{name}[{index}]", required=True)
    return entries


def _block_where(source, block_id, kind=None):
    """How messages name a block: `flow.json: block 'menu' (GetParticipantInput)`."""
    return f"{source}: block '{block_id}'" + (f" ({kind})" if kind else "")


# --------------------------------------------------------------------------- loading


def load_flow(path):
    """Read a flow file, or the single flow file at the top of a folder (subfolders ignored).

    A CloudFormation template names one of its flows by logical id: `template.yaml#MainFlow`
    (see `connect_templates`); a template with a single flow needs no `#`."""
    path, selector = _split_selector(Path(path))
    data = _read_data(path)
    if is_template(data):
        return _template_flow(data, path, selector)
    return parse_flow(data, source=str(path))


def load_flows(path):
    """Every flow a file holds: the one export, or each flow resource of a template."""
    path, _ = _split_selector(Path(path))
    data = _read_data(path)
    if not is_template(data):
        return [parse_flow(data, source=str(path))]
    return [_built(entry, path) for entry in _flows_of_template(data, path)]


def _split_selector(path):
    """(file, logical id or None) from `file#LogicalId`; a folder is read as its one flow file."""
    selector = None
    if not path.exists() and "#" in path.name:
        name, selector = path.name.split("#", 1)
        path = path.with_name(name)
    if path.is_dir():
        path = _single_flow_file(path)
    if not path.is_file():
        raise FlowError(f"{path}: no such flow file")
    return path, selector


def _read_data(path):
    """The parsed file: YAML for a template's suffixes, Terraform's heredoc flows for *.tf (as
    a template), JSON otherwise."""
    if path.suffix.lower() == ".tf":
        try:
            return as_template(limits.read_text(path, FlowError))
        except (OSError, UnicodeDecodeError) as exc:
            raise FlowError(f"{path}: cannot be read: {exc}")
    if path.suffix.lower() in YAML_SUFFIXES:
        try:
            return read_yaml(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise FlowError(f"{path}: cannot be read: {exc}")
    try:
        return limits.read_json(path, FlowError, encoding="utf-8-sig")
    except json.JSONDecodeError as exc:
        raise FlowError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError(f"{path}: cannot be read: {exc}")


def _flows_of_template(data, path):
    entries = template_flows(data, str(path))
    if not entries:
        raise NotAFlowExport(f"{path}: not an Amazon Connect flow export (no AWS::Connect::ContactFlow "
                        "resource, nor a Terraform aws_connect_contact_flow with a heredoc content)")
    return entries


def _template_flow(data, path, selector):
    """The flow `selector` names in a template, or its only flow."""
    entries = _flows_of_template(data, path)
    if selector is not None:
        chosen = [e for e in entries if selector in (e[0], e[1])]
        if not chosen:
            raise FlowError(f"{path}: no flow '{selector}' in the template (it has "
                            f"{', '.join(e[0] for e in entries)})")
        return _built(chosen[0], path)
    if len(entries) > 1:
        raise FlowError(f"{path}: the template holds {len(entries)} flows "
                        f"({', '.join(e[0] for e in entries)}); name one, e.g. {path}#{entries[0][0]}")
    return _built(entries[0], path)


def _built(entry, path):
    """A template's flow resource as a `Flow`, named by the resource."""
    logical_id, name, kind, content = entry
    flow = parse_flow(content, source=f"{path}#{logical_id}")
    flow.name, flow.kind, flow.flow_id = name, kind or flow.kind, logical_id
    return flow


def _single_flow_file(folder):
    """A folder names a flow only if exactly one *.json sits at its top (e.g. beside `legacy/`);
    with several, the entry flow must be named, and the others are found by transfers."""
    files = sorted(p for p in folder.glob("*.json") if p.is_file())
    if len(files) != 1:
        found = ", ".join(p.name for p in files) or "none"
        hint = f"; name the flow the call starts in, e.g. {folder / files[0].name}" if files else ""
        raise FlowError(f"{folder}: expected exactly one flow file (*.json) in the folder, found {found}{hint}")
    return files[0]


def parse_flow(data, source="<flow>"):
    """Build a validated `Flow` from an export's parsed JSON, in either format."""
    if not isinstance(data, dict):
        raise NotAFlowExport(f"{source}: a flow export is a JSON object, not {type(data).__name__}")
    wrapper = _wrapper(data, source)
    if wrapper is not None:
        data = wrapper["flow"]
    if "Actions" in data:
        flow = _read_flow_language(data, source)
    elif "modules" in data:
        from app.simulator.connect_legacy import read_legacy
        flow = read_legacy(data, source)
    else:
        raise NotAFlowExport(f"{source}: not an Amazon Connect flow export "
                        "(expected 'Actions' and 'StartAction', or 'modules' and 'start')")
    _validate(flow)
    _name_flow(flow, data, wrapper or {})
    return flow


def _wrapper(data, source):
    """The flow inside a file that wraps it, with the wrapper's name, id, ARN and type, or None.

    Terraform and CDK projects keep `{"Name", "Type", "Content": "<the flow as a JSON string>"}`;
    `aws connect describe-contact-flow` prints the same under "ContactFlow" (or
    "ContactFlowModule").
    """
    inner = data.get("ContactFlow") or data.get("ContactFlowModule")
    outer = inner if isinstance(inner, dict) else data
    content = outer.get("Content")
    if "Actions" in data or "modules" in data or content is None:
        return None
    if isinstance(content, str):
        try:
            content = _json_string(content)
        except json.JSONDecodeError as exc:
            raise FlowError(f"{source}: \"Content\" is not a flow in JSON (line {exc.lineno}, "
                            f"column {exc.colno}): {exc.msg}")
    if not isinstance(content, dict):
        raise FlowError(f'{source}: "Content": expected a flow (an object or a JSON string), '
                        f"got {_kind_of(content)}")
    kind = outer.get("Type") or ("MODULE" if "ContactFlowModule" in data else None)
    return {"flow": content, "Name": outer.get("Name"), "Id": outer.get("Id"), "Arn": outer.get("Arn"),
            "Type": kind}


def _json_string(text):
    """A flow kept as a JSON string; templating tools sometimes leave \\' (not JSON) in it."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if "\\'" not in text:
            raise
        return json.loads(text.replace("\\'", "'"))


def _name_flow(flow, data, wrapper):
    """Name, id, ARN and type from the wrapper, else from the export's own metadata."""
    meta = _object(data.get("Metadata") or data.get("metadata"))
    text = lambda value: value if isinstance(value, str) and value else None  # noqa: E731
    flow.name = text(wrapper.get("Name")) or text(meta.get("name"))
    flow.flow_id = text(wrapper.get("Id"))
    flow.arn = text(wrapper.get("Arn"))
    flow.kind = text(wrapper.get("Type")) or text(meta.get("type")) or text(data.get("type"))


def _validate(flow):
    """Checks that need the whole flow: the start and every transition land on a block."""
    if not flow.start:
        raise FlowError(f"{flow.source}: the flow has no start block (StartAction / start is missing)")
    if flow.start not in flow.blocks:
        raise FlowError(f"{flow.source}: the start block '{flow.start}' is not a block in this flow")
    for block in flow.blocks.values():
        _check_block(flow.source, block)
    for block_id, label, target in flow.branches:
        if target not in flow.blocks:
            raise FlowError(f"{flow.source}: block '{block_id}' branch '{label}' goes to '{target}', "
                            "which is not a block in this flow")


# Parameters the interpreter reads as objects, and string fields inside them.
_OBJECT_PARAMS = ("Attributes", "LambdaFunctionParameters", "LexSessionAttributes", "InputValidation",
                  "DTMFConfiguration", "LexBot", "LexV2Bot")
_NESTED_FIELDS = {("InputValidation", "CustomValidation"): dict, ("LexBot", "Name"): str,
                  ("LexV2Bot", "AliasArn"): str}


def _check_block(source, block):
    """Block-level checks: objects and numbers where they are due. A type the interpreter does not
    play is no error here: the flow loads, and reaching such a block ends the call saying so."""
    where = _block_where(source, block.id, block.source_type)
    for name in _OBJECT_PARAMS:
        _expect_type(block.params.get(name), dict, where, name)
    for (outer, inner), kind in _NESTED_FIELDS.items():
        _expect_type((block.params.get(outer) or {}).get(inner), kind, where, f"{outer}.{inner}")
    numeric = {"Loop": ["LoopCount"], "GetParticipantInput": ["InputTimeLimitSeconds", "MaxDigits"],
               "InvokeLambdaFunction": ["InvocationTimeLimitSeconds"]}.get(block.type, [])
    for name in numeric:
        value = block.params.get(name)
        if value is not None and not is_dynamic(value) and as_number(value) is None:
            raise FlowError(f"{source}: block '{block.id}' ({block.source_type}) parameter "
                            f"{name} is {value!r}, not a number")


def _add_block(blocks, source, block):
    if not block.id:
        raise FlowError(f"{source}: a block of type '{block.source_type}' has no identifier")
    if block.id in blocks:
        raise FlowError(f"{source}: two blocks have the identifier '{block.id}'")
    blocks[block.id] = block


# Blocks whose conditions are fixed results ("True", "MessagesInterrupted"): labelled by the result.
_RESULT_TYPES = ("Loop", "CheckHoursOfOperation", "MessageParticipantIteratively", "Wait", "CheckVoiceId",
                 "ShowView", "CheckMetricData")


def condition_label(block, operator, operands):
    """The coverage label of a conditional branch; see the module doc."""
    first = operands[0] if operands else ""
    if block.is_lex:
        return f"intent:{first}"
    if block.type in _RESULT_TYPES and operator == "Equals":
        return first
    return f"Condition:{operator} {','.join(operands)}"


def _operator(source, block_id, name):
    """The operator's flow-language name. One we do not know loads as written (or "(none)"): the
    block is then not modelled, and a call that reaches it ends there, naming the operator."""
    return OPERATOR_ALIASES.get(name, name) if name else "(none)"


# --------------------------------------------------------------------------- the flow language


def _read_flow_language(data, source):
    actions = data.get("Actions")
    if not isinstance(actions, list):
        raise FlowError(f"{source}: 'Actions' must be a list of blocks")
    start = _expect_type(data.get("StartAction"), str, source, "StartAction")
    names = _queue_names(data.get("Metadata"))
    blocks = {}
    for index, action in enumerate(actions):
        if not isinstance(action, dict):
            raise FlowError(f"{source}: every entry of 'Actions' must be an object")
        _add_block(blocks, source, _action_block(action, source, index, names))
    return Flow(start=start, blocks=blocks, source=source, format="flow-language")


def _action_block(action, source, index, queue_names):
    block_id = _expect_type(action.get("Identifier"), str, f"{source}: Actions[{index}]", "Identifier")
    kind = _expect_type(action.get("Type"), str, _block_where(source, block_id), "Type", required=True)
    where = _block_where(source, block_id, kind)
    params = dict(_expect_type(action.get("Parameters"), dict, where, "Parameters") or {})
    if kind == "UpdateContactTargetQueue" and block_id in queue_names:
        params.setdefault("QueueName", queue_names[block_id])
    transitions = _expect_type(action.get("Transitions"), dict, where, "Transitions") or {}
    block = Block(id=block_id, type=kind, params=params, source_type=kind,
                  next=_expect_type(transitions.get("NextAction"), str, where, "Transitions.NextAction"))
    conditions = _expect_objects(transitions.get("Conditions"), where, "Transitions.Conditions")
    for number, entry in enumerate(conditions):
        block.conditions.append(_action_condition(block, entry, source, where,
                                                  f"Transitions.Conditions[{number}]"))
    for number, entry in enumerate(_expect_objects(transitions.get("Errors"), where, "Transitions.Errors")):
        name = f"Transitions.Errors[{number}]"
        error_type = _expect_type(entry.get("ErrorType"), str, where, f"{name}.ErrorType", required=True)
        block.errors[error_type] = _expect_type(entry.get("NextAction"), str, where, f"{name}.NextAction")
    return block


def _action_condition(block, entry, source, where, name):
    """One entry of `Transitions.Conditions`: {"NextAction", "Condition": {"Operator", "Operands"}}."""
    condition = _expect_type(entry.get("Condition"), dict, where, f"{name}.Condition") or {}
    operator = _expect_type(condition.get("Operator"), str, where, f"{name}.Condition.Operator")
    operator = _operator(source, block.id, operator)
    operands = _expect_type(condition.get("Operands"), list, where, f"{name}.Condition.Operands") or []
    operands = tuple(str(operand) for operand in operands)
    target = _expect_type(entry.get("NextAction"), str, where, f"{name}.NextAction")
    return Condition(operator, operands, target, condition_label(block, operator, operands))


def _object(value):
    """`value` if it is an object, else an empty one: for layout data that is read if it is there."""
    return value if isinstance(value, dict) else {}


def _queue_names(metadata):
    """Readable queue names the console keeps in `Metadata.ActionMetadata` beside queue ARNs."""
    names = {}
    for block_id, meta in _object(_object(metadata).get("ActionMetadata")).items():
        meta = _object(meta)
        name = _object(meta.get("queue")).get("text") or \
            _object(_object(meta.get("parameters")).get("QueueId")).get("displayName")
        if isinstance(name, str) and name:
            names[block_id] = name
    return names
