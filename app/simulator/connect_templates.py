"""Connect flows kept inside CloudFormation templates (JSON or YAML), as CDK and SAM projects and
the AWS samples ship them.

A template's `Resources` hold `AWS::Connect::ContactFlow` and `AWS::Connect::ContactFlowModule`
resources; each one's `Properties.Content` is the flow, written as a JSON string, as an object,
or through an intrinsic function that builds the string at deploy time:

- `{"Fn::Sub": "..."}` or `{"Fn::Sub": ["...", {"Var": value}]}` (YAML `!Sub`): the variables
  given as literal strings are put in; one given as `!GetAtt Goodbye.ContactFlowArn` reads
  `${Goodbye.ContactFlowArn}`, which a transfer resolves to the template's flow `Goodbye`;
  the others (`${QueueArn}`, `${AWS::Region}`) stay as written;
- `{"Fn::Join": [separator, [parts]]}`: literal parts joined, other parts as `${...}`;
- `{"Fn::ToJsonString": {...}}` (the AWS::LanguageExtensions transform): the object itself.

One template holds several flows: each is named by its logical id (`template.yaml#MainFlow`),
and a transfer finds it by the resource's `Name` as it finds a flow file by name.
"""
import json
import re

from app import limits
from app.errors import FlowError

FLOW_TYPES = {"AWS::Connect::ContactFlow": None, "AWS::Connect::ContactFlowModule": "MODULE"}
YAML_SUFFIXES = (".yaml", ".yml", ".template")
_SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")


def is_template(data):
    """Whether parsed JSON/YAML is a CloudFormation template (it has a `Resources` object)."""
    return isinstance(data, dict) and isinstance(data.get("Resources"), dict) and \
        "Actions" not in data and "modules" not in data


def template_flows(data, source):
    """[(logical id, name, type, flow content as a dict)] of every flow resource, in order."""
    found = []
    for logical_id, resource in data["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") not in FLOW_TYPES:
            continue
        props = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
        where = f"{source}#{logical_id}"
        content = _content(props.get("Content"), where)
        name = props.get("Name") if isinstance(props.get("Name"), str) else logical_id
        kind = FLOW_TYPES[resource["Type"]] or (props.get("Type") if isinstance(props.get("Type"), str) else None)
        found.append((logical_id, name, kind, content))
    return found


def _content(value, where):
    """The flow a `Content` property holds, as a dict (see the module doc for the forms)."""
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), = value.items()
        if function == "Fn::ToJsonString":
            return _content(argument, where)
        if function in ("Fn::Sub", "Fn::Join"):
            value = _substituted(argument) if function == "Fn::Sub" else _joined(argument)
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise FlowError(f'{where}: "Content" is not a flow (a JSON string, an object, or Fn::Sub, '
                        "Fn::Join or Fn::ToJsonString of one)")
    try:
        content = json.loads(value)
    except json.JSONDecodeError as exc:
        raise FlowError(f'{where}: "Content" is not a flow in JSON (line {exc.lineno}, '
                        f"column {exc.colno}): {exc.msg}")
    if not isinstance(content, dict):
        raise FlowError(f'{where}: "Content" is not a flow (a JSON object)')
    return content


def _substituted(argument):
    """Fn::Sub's string, with its literal variables put in; `${!Literal}` reads `${Literal}`."""
    text, variables = (argument, {}) if isinstance(argument, str) else \
        (argument[0], argument[1]) if isinstance(argument, list) and len(argument) == 2 else (None, None)
    if not isinstance(text, str) or not isinstance(variables, dict):
        return None
    known = {name: str(value) if isinstance(value, (str, int, float)) else "${" + _reference(value) + "}"
             for name, value in variables.items()}
    text = _SUB_VARIABLE.sub(lambda m: known.get(m.group(1).strip(), m.group(0)), text)
    return text.replace("${!", "${")


def _joined(argument):
    """Fn::Join's string: literal parts as they are, any other part as a `${...}` reference."""
    if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)
            and isinstance(argument[1], list)):
        return None
    return argument[0].join(part if isinstance(part, str) else "${" + _reference(part) + "}"
                            for part in argument[1])


def _reference(part):
    """A short name for an intrinsic that only the deploy resolves (`Ref: Queue` -> "Queue")."""
    if isinstance(part, dict) and len(part) == 1:
        (function, argument), = part.items()
        if isinstance(argument, str):
            return argument
        if isinstance(argument, list) and argument and all(isinstance(a, str) for a in argument):
            return ".".join(argument)
        return function
    return str(part)


# --------------------------------------------------------------------------- YAML


def read_yaml(path):
    """A YAML template as plain data, its short tags (`!Sub`, `!Ref`, `!GetAtt` ...) read as the
    JSON form of the function (`{"Fn::Sub": ...}`). Anchors and aliases are refused: templates do
    not need them, and they can make a small file expand without bound."""
    import yaml

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise FlowError(f"{path}: YAML aliases (*name) are not read in a flow template")
            return super().compose_node(parent, index)

    def function(loader, suffix, node):
        name = "Ref" if suffix == "Ref" else "Fn::GetAtt" if suffix == "GetAtt" else f"Fn::{suffix}"
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    Loader.add_multi_constructor("!", function)
    text = limits.read_text(path, FlowError, encoding="utf-8-sig")
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise FlowError(f"{path}: not valid YAML: {exc}".replace("\n", " "))
