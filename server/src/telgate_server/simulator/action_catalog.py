"""The actions a stock Asterisk 22.10.1 registers, as ListCommands shows them.

Taken from the lab's ListCommands answer (fixture 32-misc-actions): name,
synopsis and the write classes (``Priv``) manager.c checks. The session uses
the classes for its permission check and ListCommands prints the table, so an
action the simulator does not implement still has Asterisk's class.
"""

from __future__ import annotations

# (name, synopsis, privilege text as printed: "call,all" or "<none>")
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("AbsoluteTimeout", "Set absolute timeout.", "system,call,all"),
    ("AGI", "Add an AGI command to execute by Async AGI.", "agi,all"),
    ("AOCMessage", "Generate an Advice of Charge message on a channel.", "aoc,all"),
    ("Atxfer", "Attended transfer.", "call,all"),
    ("BlindTransfer", "Blind transfer channel(s) to the given destination", "call,all"),
    ("Bridge", "Bridge two channels already in the PBX.", "call,all"),
    ("BridgeDestroy", "Destroy a bridge.", "<none>"),
    ("BridgeInfo", "Get information about a bridge.", "<none>"),
    ("BridgeKick", "Kick a channel from a bridge.", "<none>"),
    ("BridgeList", "Get a list of bridges in the system.", "<none>"),
    ("BridgeTechnologyList", "List available bridging technologies and their statuses.", "<none>"),
    ("BridgeTechnologySuspend", "Suspend a bridging technology.", "<none>"),
    ("BridgeTechnologyUnsuspend", "Unsuspend a bridging technology.", "<none>"),
    ("CancelAtxfer", "Cancel an attended transfer.", "call,all"),
    ("Challenge", "Generate Challenge for MD5 Auth.", "<none>"),
    ("Command", "Execute Asterisk CLI Command.", "command,all"),
    ("ControlPlayback", "Control the playback of a file being played to a channel.", "call,all"),
    ("CoreSettings", "Show PBX core settings (version etc).", "system,reporting,all"),
    (
        "CoreShowChannelMap",
        "List all channels connected to the specified channel.",
        "system,reporting,all",
    ),
    ("CoreShowChannels", "List currently active channels.", "system,reporting,all"),
    ("CoreStatus", "Show PBX core status variables.", "system,reporting,all"),
    ("CreateConfig", "Creates an empty file in the configuration directory.", "config,all"),
    ("DBDel", "Delete DB entry.", "system,all"),
    ("DBDelTree", "Delete DB Tree.", "system,all"),
    ("DBGet", "Get DB Entry.", "system,reporting,all"),
    ("DBGetTree", "Get DB entries, optionally at a particular family/key", "system,reporting,all"),
    ("DBPut", "Put DB entry.", "system,all"),
    ("DeviceStateList", "List the current known device states.", "call,reporting,all"),
    ("DialplanExtensionAdd", "Add an extension to the dialplan", "system,all"),
    ("DialplanExtensionRemove", "Remove an extension from the dialplan", "system,all"),
    ("Events", "Control Event Flow.", "<none>"),
    ("ExtensionState", "Check Extension Status.", "call,reporting,all"),
    ("ExtensionStateList", "List the current known extension states.", "call,reporting,all"),
    ("Filter", "Dynamically add filters for the current manager session.", "system,all"),
    ("GetConfig", "Retrieve configuration.", "system,config,all"),
    ("GetConfigJSON", "Retrieve configuration (JSON format).", "system,config,all"),
    ("Getvar", "Gets a channel variable or function value.", "call,reporting,all"),
    ("Hangup", "Hangup channel.", "system,call,all"),
    ("ListCategories", "List categories in configuration file.", "config,all"),
    ("ListCommands", "List available manager commands.", "<none>"),
    ("LocalOptimizeAway", "Optimize away a local channel when possible.", "system,call,all"),
    ("LoggerRotate", "Reload and rotate the Asterisk logger.", "system,reporting,all"),
    ("Login", "Login Manager.", "<none>"),
    ("Logoff", "Logoff Manager.", "<none>"),
    ("MailboxCount", "Check Mailbox Message Count.", "call,reporting,all"),
    ("MailboxStatus", "Check mailbox.", "call,reporting,all"),
    ("MessageSend", "Send an out of call message to an endpoint.", "message,all"),
    (
        "MixMonitor",
        "Record a call and mix the audio during the recording.  Use of "
        "StopMixMonitor is required to guarantee the audio file is available "
        "for processing during dialplan execution.",
        "system,all",
    ),
    ("MixMonitorMute", "Mute / unMute a Mixmonitor recording.", "system,call,all"),
    ("ModuleCheck", "Check if module is loaded.", "system,all"),
    ("ModuleLoad", "Module management.", "system,all"),
    ("MuteAudio", "Mute an audio stream.", "system,all"),
    ("Originate", "Originate a call.", "originate,all"),
    ("Ping", "Keepalive command.", "<none>"),
    ("PlayDTMF", "Play DTMF signal on a specific channel.", "call,all"),
    ("PlayMF", "Play MF digit on a specific channel.", "call,all"),
    ("PresenceState", "Check Presence State", "call,reporting,all"),
    ("PresenceStateList", "List the current known presence states.", "call,reporting,all"),
    ("QueueAdd", "Add interface to queue.", "agent,all"),
    ("QueueChangePriorityCaller", "Change priority of a caller on queue.", "<none>"),
    ("QueueLog", "Adds custom entry in queue_log.", "agent,all"),
    ("QueueMemberRingInUse", "Set the ringinuse value for a queue member.", "agent,all"),
    ("QueuePause", "Makes a queue member temporarily unavailable.", "agent,all"),
    ("QueuePenalty", "Set the penalty for a queue member.", "agent,all"),
    ("QueueReload", "Reload a queue, queues, or any sub-section of a queue or queues.", "<none>"),
    ("QueueRemove", "Remove interface from queue.", "agent,all"),
    ("QueueReset", "Reset queue statistics.", "<none>"),
    ("QueueRule", "Queue Rules.", "<none>"),
    ("QueueStatus", "Show queue status.", "<none>"),
    ("QueueSummary", "Show queue summary.", "<none>"),
    (
        "QueueWithdrawCaller",
        "Request to withdraw a caller from the queue back to the dialplan.",
        "<none>",
    ),
    ("Redirect", "Redirect (transfer) a call.", "call,all"),
    ("Reload", "Send a reload event.", "system,config,all"),
    ("SendFlash", "Send a hook flash on a specific channel.", "call,all"),
    (
        "SendText",
        "Sends a text message to channel. A content type\tcan be optionally "
        "specified. If not set it is set to an empty string allowing a custom "
        "handler to default it as it sees fit.",
        "call,all",
    ),
    ("Setvar", "Sets a channel variable or function value.", "call,all"),
    ("ShowDialPlan", "Show dialplan contexts and extensions", "config,reporting,all"),
    (
        "SorceryMemoryCacheExpire",
        "Expire (remove) ALL objects from a sorcery memory cache.",
        "system,all",
    ),
    (
        "SorceryMemoryCacheExpireObject",
        "Expire (remove) an object from a sorcery memory cache.",
        "system,all",
    ),
    (
        "SorceryMemoryCachePopulate",
        "Expire all objects from a memory cache and populate it with all objects from the backend.",
        "system,all",
    ),
    (
        "SorceryMemoryCacheStale",
        "Marks ALL objects in a sorcery memory cache as stale.",
        "system,all",
    ),
    (
        "SorceryMemoryCacheStaleObject",
        "Mark an object in a sorcery memory cache as stale.",
        "system,all",
    ),
    ("Status", "List channel status.", "system,call,reporting,all"),
    (
        "StopMixMonitor",
        "Stop recording a call through MixMonitor, and free the recording's file handle.",
        "system,call,all",
    ),
    ("UpdateConfig", "Update basic configuration.", "config,all"),
    ("UserEvent", "Send an arbitrary event.", "user,all"),
    ("WaitEvent", "Wait for an event to occur.", "<none>"),
)


def action_classes(name: str) -> frozenset[str] | None:
    """The write classes an action needs (empty: always allowed); None if unknown."""
    low = name.lower()
    for action, _, priv in ACTIONS:
        if action.lower() == low:
            if priv == "<none>":
                return frozenset()
            return frozenset(c for c in priv.split(",") if c != "all")
    return None
