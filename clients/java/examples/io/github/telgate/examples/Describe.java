package io.github.telgate.examples;

import io.github.telgate.v1.Channel;
import io.github.telgate.v1.Event;

/** One line for each kind of event the quickstart's call produces. */
final class Describe {
  private Describe() {}

  static String event(Event event) {
    switch (event.getPayloadCase()) {
      case CHANNEL_CREATED:
        return "channel created   " + name(event.getChannelCreated().getChannel());
      case CHANNEL_STATE_CHANGED:
        Channel changed = event.getChannelStateChanged().getChannel();
        return "state changed     " + name(changed) + " -> " + changed.getState();
      case DIAL_STARTED:
        return "dial started      " + name(event.getDialStarted().getDestination());
      case DIAL_ENDED:
        return "dial ended        "
            + name(event.getDialEnded().getDestination())
            + ": "
            + event.getDialEnded().getStatus();
      case BRIDGE_ENTERED:
        return "bridge entered    "
            + name(event.getBridgeEntered().getChannel())
            + " ("
            + event.getBridgeEntered().getBridge().getNumChannels()
            + " in bridge)";
      case BRIDGE_LEFT:
        return "bridge left       " + name(event.getBridgeLeft().getChannel());
      case CHANNEL_HUNG_UP:
        return "hung up           "
            + name(event.getChannelHungUp().getChannel())
            + " ("
            + event.getChannelHungUp().getChannel().getUniqueId()
            + "): cause "
            + event.getChannelHungUp().getCause()
            + " "
            + event.getChannelHungUp().getCauseText();
      case DIALPLAN_STEP:
        return "dialplan step     "
            + name(event.getDialplanStep().getChannel())
            + ": "
            + event.getDialplanStep().getApplication()
            + "("
            + event.getDialplanStep().getApplicationData()
            + ")";
      case VARIABLE_SET:
        return "variable set      "
            + name(event.getVariableSet().getChannel())
            + ": "
            + event.getVariableSet().getVariable()
            + "="
            + event.getVariableSet().getValue();
      case DIAL_STATE_CHANGED:
        return "dial state        "
            + name(event.getDialStateChanged().getDestination())
            + ": "
            + event.getDialStateChanged().getStatusText();
      case HANGUP_REQUESTED:
        return "hangup requested  "
            + name(event.getHangupRequested().getChannel())
            + ": cause "
            + event.getHangupRequested().getCause();
      case DEVICE_STATE_CHANGED:
        return "device state      "
            + event.getDeviceStateChanged().getEndpoint()
            + ": "
            + event.getDeviceStateChanged().getStatus();
      case ORIGINATE_RESULT:
        return "originate result  " + event.getOriginateResult().getOutcome();
      case CDR_RECORDED:
        return "CDR recorded      cursor "
            + Long.toUnsignedString(event.getCdrRecorded().getCdr().getCursor());
      case PAYLOAD_NOT_SET:
        return event.getName() + " (no typed payload)";
      default:
        return event.getName() + " (" + event.getPayloadCase() + ")";
    }
  }

  private static String name(Channel channel) {
    return channel.getName().isEmpty() ? channel.getUniqueId() : channel.getName();
  }
}
