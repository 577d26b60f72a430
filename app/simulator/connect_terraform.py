"""Connect flows written inline in Terraform (`*.tf`), as `aws_connect_contact_flow` and
`aws_connect_contact_flow_module` resources whose `content` is a heredoc:

    resource "aws_connect_contact_flow" "main" {
      name    = "Main"
      type    = "CONTACT_FLOW"
      content = <<JSON
      {"Version": "2019-10-30", "StartAction": ..., "Actions": [...]}
      JSON
    }

A file is read as the CloudFormation template it is equivalent to (`connect_templates`), so each
flow is named by its resource label (`main.tf#main`) and found by transfers by its `name`.
Interpolations (`${var.queue_arn}`) stay as written, Terraform's `$${` escape reads `${`. A
`content = jsonencode({...})` (HCL, not JSON) or `content = file(...)` is not read: such projects
keep the flow in a JSON file beside it, which loads on its own.
"""
import re

RESOURCE_TYPES = {"aws_connect_contact_flow": "AWS::Connect::ContactFlow",
                  "aws_connect_contact_flow_module": "AWS::Connect::ContactFlowModule"}
_RESOURCE = re.compile(r'^\s*resource\s+"(aws_connect_contact_flow(?:_module)?)"\s+"([^"]+)"\s*\{', re.M)
_ANY_RESOURCE = re.compile(r'^\s*(?:resource|data|module|locals|variable|output)\b', re.M)
_HEREDOC = re.compile(r'^\s*content\s*=\s*<<-?(\w+)[ \t]*\n(.*?)^[ \t]*\1[ \t]*$', re.M | re.S)


def _attribute(body, name):
    found = re.search(rf'^\s*{name}\s*=\s*"([^"]*)"', body, re.M)
    return found.group(1) if found else None


def as_template(text):
    """The Terraform file's heredoc flows as a CloudFormation-shaped dict (`{"Resources": ...}`)."""
    resources = {}
    for match in _RESOURCE.finditer(text):
        following = _ANY_RESOURCE.search(text, match.end())
        body = text[match.end():following.start() if following else len(text)]
        heredoc = _HEREDOC.search(body)
        if heredoc is None:
            continue
        props = {"Content": heredoc.group(2).replace("$${", "${")}
        for key, name in (("Name", "name"), ("Type", "type")):
            value = _attribute(body, name)
            if value:
                props[key] = value
        resources[match.group(2)] = {"Type": RESOURCE_TYPES[match.group(1)], "Properties": props}
    return {"Resources": resources}
