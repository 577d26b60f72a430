"""Suites that write themselves: explore an IVR offline and keep the calls that reach every branch.

`explore` plays caller actions on the virtual network through the ordinary runner, `probes` says
which actions are worth trying where the IVR listens (read from the flow and bot when there is
one), `minimize` keeps the fewest calls that cover every branch reached and says why the others
cannot be, `naming` names each call after its path, and `pipeline` turns the kept calls into
suite files and checks them. The commands are in `app/generate/commands.py`.
"""
