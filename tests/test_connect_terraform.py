"""Flows written inline in Terraform: each heredoc `content` of an aws_connect_contact_flow(_module)
resource loads as a flow named `file.tf#label`, plays, and transfers by Terraform reference."""
import pytest

from app.errors import FlowError
from app.simulator.connect_flow import load_flow, load_flows
from app.simulator.connect_probe import probe

TF = '''
resource "aws_connect_contact_flow" "main" {
  instance_id = var.instance_id
  name        = "Main line"
  type        = "CONTACT_FLOW"
  content     = <<-JSON
    {"Version": "2019-10-30", "StartAction": "hi", "Actions": [
      {"Identifier": "hi", "Type": "MessageParticipant", "Parameters": {"Text": "Cost is $${price}."},
       "Transitions": {"NextAction": "go"}},
      {"Identifier": "go", "Type": "InvokeFlowModule",
       "Parameters": {"FlowModuleId": "${aws_connect_contact_flow_module.bye.id}"},
       "Transitions": {"NextAction": "end", "Errors": [{"ErrorType": "NoMatchingError", "NextAction": "end"}]}},
      {"Identifier": "end", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}}]}
    JSON
  tags = var.tags
}

resource "aws_connect_contact_flow_module" "bye" {
  instance_id = var.instance_id
  name        = "Goodbye module"
  content = <<EOF
{"Version": "2019-10-30", "StartAction": "b", "Actions": [
  {"Identifier": "b", "Type": "MessageParticipant", "Parameters": {"Text": "Bye."}, "Transitions": {"NextAction": "r"}},
  {"Identifier": "r", "Type": "EndFlowModuleExecution", "Parameters": {}, "Transitions": {}}]}
EOF
}

resource "aws_connect_contact_flow" "from_file" {
  instance_id = var.instance_id
  name        = "From a file"
  filename    = "flows/other.json"
}

resource "aws_connect_queue" "support" {
  name = "Support"
}
'''


def test_terraform_heredoc_flows_load_play_and_invoke_each_other(tmp_path):
    path = tmp_path / "connect.tf"
    path.write_text(TF)
    flows = load_flows(path)
    assert [(f.flow_id, f.name, f.kind) for f in flows] == [("main", "Main line", "CONTACT_FLOW"),
                                                           ("bye", "Goodbye module", "MODULE")]
    result = probe(f"{path}#main")
    assert result.heard == ["Cost is ${price}.", "Bye."]
    assert result.outcome == "disconnected"


def test_a_terraform_file_without_heredoc_flows_is_not_a_flow_export(tmp_path):
    path = tmp_path / "queues.tf"
    path.write_text('resource "aws_connect_queue" "q" {\n  name = "Q"\n}\n')
    with pytest.raises(FlowError, match="not an Amazon Connect flow export"):
        load_flow(path)
    broken = tmp_path / "broken.tf"
    broken.write_text('resource "aws_connect_contact_flow" "x" {\n  content = <<JSON\n{"Actions": [\nJSON\n}\n')
    with pytest.raises(FlowError, match=r"broken\.tf#x: \"Content\" is not a flow in JSON"):
        load_flow(broken)
