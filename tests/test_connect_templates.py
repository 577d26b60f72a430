"""Flows inside CloudFormation templates (JSON and YAML): each AWS::Connect::ContactFlow /
ContactFlowModule resource loads as a flow, named `template#LogicalId`, and plays."""
import json

import pytest

from app.errors import FlowError
from app.simulator.connect_flow import load_flow, load_flows
from app.simulator.connect_probe import probe


def flow_content(text, next_flow=None):
    """A flow that says `text`, then transfers to `next_flow` (or disconnects)."""
    end = ({"Identifier": "end", "Type": "TransferToFlow", "Parameters": {"ContactFlowId": next_flow},
            "Transitions": {}} if next_flow else
           {"Identifier": "end", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}})
    return {"Version": "2019-10-30", "StartAction": "say", "Actions": [
        {"Identifier": "say", "Type": "MessageParticipant", "Parameters": {"Text": text},
         "Transitions": {"NextAction": "end"}}, end]}


def resource(content, name=None, kind="AWS::Connect::ContactFlow"):
    props = {"InstanceArn": {"Ref": "Instance"}, "Content": content}
    if kind == "AWS::Connect::ContactFlow":
        props["Type"] = "CONTACT_FLOW"
    if name:
        props["Name"] = name
    return {"Type": kind, "Properties": props}


YAML = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Greeting: {Type: String}
Resources:
  Queue:
    Type: AWS::Connect::Queue
  MainFlow:
    Type: AWS::Connect::ContactFlow
    Properties:
      Name: !Sub "${AWS::StackName}-main"
      Type: CONTACT_FLOW
      InstanceArn: !Ref Instance
      Content: !Sub
        - '{"Version":"2019-10-30","StartAction":"a","Actions":[{"Identifier":"a","Type":"MessageParticipant","Parameters":{"Text":"Welcome to ${Shop}."},"Transitions":{"NextAction":"t"}},{"Identifier":"t","Type":"TransferToFlow","Parameters":{"ContactFlowId":"${ModuleArn}"},"Transitions":{}}]}'
        - Shop: Acme
          ModuleArn: !GetAtt Goodbye.ContactFlowArn
  Goodbye:
    Type: AWS::Connect::ContactFlow
    Properties:
      Name: Goodbye
      Type: CONTACT_FLOW
      Content: '{"Version":"2019-10-30","StartAction":"b","Actions":[{"Identifier":"b","Type":"MessageParticipant","Parameters":{"Text":"Bye."},"Transitions":{"NextAction":"d"}},{"Identifier":"d","Type":"DisconnectParticipant","Parameters":{},"Transitions":{}}]}'
"""


def test_a_yaml_template_loads_each_flow_and_transfers_between_them(tmp_path):
    path = tmp_path / "stack.yaml"
    path.write_text(YAML)
    flows = load_flows(path)
    assert [f.source for f in flows] == [f"{path}#MainFlow", f"{path}#Goodbye"]
    assert flows[1].name == "Goodbye" and flows[1].kind == "CONTACT_FLOW"
    result = probe(f"{path}#MainFlow")
    assert result.heard == ["Welcome to Acme.", "Bye."]
    assert result.outcome == "disconnected"


def test_a_template_with_several_flows_needs_one_named(tmp_path):
    path = tmp_path / "stack.yaml"
    path.write_text(YAML)
    with pytest.raises(FlowError, match=r"holds 2 flows \(MainFlow, Goodbye\); name one, e\.g\. .*#MainFlow"):
        load_flow(path)
    with pytest.raises(FlowError, match="no flow 'Nope' in the template"):
        load_flow(f"{path}#Nope")
    assert load_flow(f"{path}#Goodbye").blocks["b"].params == {"Text": "Bye."}


def test_json_templates_take_content_as_string_object_join_or_to_json_string(tmp_path):
    template = {"Resources": {
        "AsString": resource(json.dumps(flow_content("One.")), name="one"),
        "AsObject": resource({"Fn::ToJsonString": flow_content("Two.")}),
        "AsJoin": resource({"Fn::Join": ["", ['{"Version":"2019-10-30","StartAction":"say","Actions":[{"Identifier":"say",'
                                              '"Type":"MessageParticipant","Parameters":{"Text":"Queue ',
                                              {"Ref": "QueueName"}, '."},"Transitions":{}}]}']]}),
        "Module": resource(flow_content("Four."), kind="AWS::Connect::ContactFlowModule"),
    }}
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    flows = {f.flow_id: f for f in load_flows(path)}
    assert flows["AsString"].name == "one" and flows["AsObject"].name == "AsObject"
    assert flows["AsJoin"].blocks["say"].params["Text"] == "Queue ${QueueName}."
    assert flows["Module"].kind == "MODULE"
    assert probe(f"{path}#AsObject").heard == ["Two."]


def test_a_template_without_flows_is_not_a_flow_export_and_bad_content_is_named(tmp_path):
    empty = tmp_path / "queues.yaml"
    empty.write_text("Resources:\n  Q:\n    Type: AWS::Connect::Queue\n")
    with pytest.raises(FlowError, match="not an Amazon Connect flow export"):
        load_flows(empty)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"Resources": {"F": resource("{not json")}}))
    with pytest.raises(FlowError, match=r"broken\.json#F: \"Content\" is not a flow in JSON"):
        load_flows(broken)


def test_yaml_aliases_and_bad_yaml_are_refused(tmp_path):
    aliased = tmp_path / "a.yaml"
    aliased.write_text("x: &a [1, 2]\ny: *a\n")
    with pytest.raises(FlowError, match="aliases"):
        load_flows(aliased)
    bad = tmp_path / "b.yaml"
    bad.write_text("Resources: [\n")
    with pytest.raises(FlowError, match="not valid YAML"):
        load_flows(bad)
