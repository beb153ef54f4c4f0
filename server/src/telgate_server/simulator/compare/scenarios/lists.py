"""List and status actions with their options, idle and with a live call."""

from __future__ import annotations

from ..script import Script
from .common import bridged, end, new

O1 = "{Local/201@phones;1}"


def _idle() -> Script:
    s = new("list-idle", "every list action on an idle PBX")
    s.action("CoreShowChannels")
    s.bare("CoreShowChannels")
    s.action("Status")
    s.action("Status", Channel="all")
    s.action("QueueSummary")
    s.action("CoreStatus")
    s.action("CoreSettings")
    s.action("ExtensionState", Exten="201", Context="phones")
    s.action("ExtensionState", Exten="999", Context="nowhere")
    return end(s, 1.0)


def _call() -> Script:
    s = bridged(new("list-with-call", "list and status actions while 201 -> 202 is bridged"))
    s.action("CoreShowChannels")
    s.action("Status")
    s.action("Status", Channel=O1)
    s.action("Status", Channel=O1, Variables="DIALSTATUS,BRIDGEPEER,NOSUCH")
    s.action("Status", Channel=O1, AllVariables="true")
    s.action("Status", Channel="Local/none-00000000;1")
    s.action("CoreStatus")
    s.action("Hangup", Channel=O1)
    return end(s)


def _queue() -> Script:
    s = new("list-queues", "QueueStatus / QueueSummary with Queue and Member filters")
    s.action("QueueStatus")
    s.action("QueueStatus", Queue="sales")
    s.action("QueueStatus", Member="Local/201@phones/n")
    s.action("QueueStatus", Queue="support", Member="Local/202@phones/n")
    s.action("QueueStatus", Queue="support", Member="Local/203@phones/n")
    s.action("QueueStatus", Queue="nosuch")
    s.action("QueueSummary", Queue="support")
    s.action("QueueSummary", Queue="nosuch")
    s.bare("QueueStatus")
    return end(s, 1.0)


def _vars() -> Script:
    s = bridged(new("vars-callerid", "Setvar/Getvar of variables and CALLERID on a live call"))
    s.action("Setvar", Channel=O1, Variable="FOO", Value="bar")
    s.action("Getvar", Channel=O1, Variable="FOO")
    s.action("Getvar", Channel=O1, Variable="NOSUCH")
    s.action("Setvar", Channel=O1, Variable="CALLERID(num)", Value="5551234")
    s.action("Setvar", Channel=O1, Variable="CALLERID(name)", Value="Jane Doe")
    s.action("Getvar", Channel=O1, Variable="CALLERID(all)")
    s.action("Getvar", Channel=O1, Variable="CALLERID(num)")
    s.action("Setvar", Channel=O1, Variable="CONNECTEDLINE(num)", Value="777")
    s.action("Getvar", Channel=O1, Variable="CHANNEL(state)")
    s.action("Getvar", Channel=O1, Variable="UNIQUEID")
    s.action("Setvar", Variable="GLOBALX", Value="1")
    s.action("Getvar", Variable="GLOBALX")
    s.action("Getvar", Channel="Local/none-00000000;1", Variable="FOO")
    s.action("Setvar", Channel=O1, Value="x")
    s.action("Setvar", Channel=O1, Variable="EMPTY")
    s.action("Status", Channel=O1)
    s.action("Hangup", Channel=O1)
    return end(s)


SCRIPTS: list[Script] = [_idle(), _call(), _queue(), _vars()]
