#!/usr/bin/env bash
# make demo: the AMI simulator (a fake Asterisk with background calls) and the
# gateway on 127.0.0.1:50051 with authentication on, a health and reflection
# check, an anonymous call that is refused, then the Python example places a
# call with the demo token. Leaves both running until Ctrl-C (DEMO_EXIT=1:
# stop after the checks).
#
# The demo token: TELGATE_DEMO_TOKEN when set, otherwise a new random one,
# printed below. It holds every role (examples/demo.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
GRPC=127.0.0.1:50051
AMI_PORT=15038
LOG=${TMPDIR:-/tmp}/telgate-demo
mkdir -p "$LOG"

# The simulator's AMI secret, made now for this run only; the gateway gets it too.
TELGATE_SIM_SECRET=$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(18))')
export TELGATE_SIM_SECRET TELGATE_BACKENDS__PBX__SECRET=$TELGATE_SIM_SECRET

if [ -n "${TELGATE_DEMO_TOKEN:-}" ]; then
  TOKEN=$TELGATE_DEMO_TOKEN
  MADE=0
else
  TOKEN=$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(32))')
  MADE=1
fi
export TELGATE_AUTH__TOKENS__DEMO__SECRET=$TOKEN
AUTH="authorization: Bearer $TOKEN"

cleanup() {
  kill "${GW:-}" "${SIM:-}" "${SIMOTEL:-}" "${SIPPY:-}" "${ROUTER:-}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The simulator's AGI() dialplan step (context agi-test) asks the gateway's
# FastAGI server (examples/demo.toml [backends.pbx.fastagi]).
AGI_ADDR=127.0.0.1:14573
TELGATE_SIM_AGI_ADDR=$AGI_ADDR $BIN/telgate-sim --port "$AMI_PORT" --traffic >"$LOG/sim.log" 2>&1 &
SIM=$!
# -- Simotel: the fake Simotel (API on 18088), sending its webhooks to the
# gateway's receiver (18081); both passwords made now, for this run only.
export TELGATE_BACKENDS__SIMOTEL__PASSWORD=$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(16))')
export TELGATE_BACKENDS__SIMOTEL__WEBHOOK_PASSWORD=$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(16))')
SIMOTEL_GRPC_BODY='{"backend":"simotel","endpoint":"204","destination":{"number":{"number":"09120000001"}},"wait":"ORIGINATE_WAIT_RESULT"}'
FAKE_SIMOTEL_PASSWORD=$TELGATE_BACKENDS__SIMOTEL__PASSWORD \
  FAKE_SIMOTEL_HOOK_PASSWORD=$TELGATE_BACKENDS__SIMOTEL__WEBHOOK_PASSWORD \
  $BIN/python -m telgate_server.fakes.simotel --port 18088 --ring 1 --talk 2 \
  --webhook-url http://127.0.0.1:18081/simotel/simotel --webhook-user simotel-hook \
  >"$LOG/simotel.log" 2>&1 &
SIMOTEL=$!
# -- end Simotel

# -- sippy: the fake Sippy switch (Digest auth, CDRs arriving about one a second) --
SIPPY_PORT=18089
export TELGATE_BACKENDS__SIPPY__PASSWORD=$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(16))')
FAKE_SIPPY_PASSWORD=$TELGATE_BACKENDS__SIPPY__PASSWORD $BIN/python -m telgate_server.fakes.sippy \
  --port "$SIPPY_PORT" --rate 1 >"$LOG/sippy.log" 2>&1 &
SIPPY=$!
# -- end sippy --
$BIN/telgate serve --config examples/demo.toml >"$LOG/gateway.log" 2>&1 &
GW=$!

curl_grpc() { $BIN/buf curl --protocol grpc --http2-prior-knowledge "$@"; }
health() {
  curl_grpc -d "{\"service\":\"$1\"}" "http://$GRPC/grpc.health.v1.Health/Check" 2>/dev/null
}
for _ in $(seq 1 100); do
  if ! kill -0 "$GW" 2>/dev/null; then
    echo "the gateway stopped:" >&2
    cat "$LOG/gateway.log" >&2
    exit 1
  fi
  if health telgate.backend.pbx | grep -q SERVING; then break; fi
  sleep 0.1
done
if [ "$MADE" = 1 ]; then
  echo "== demo token (made for this run; set TELGATE_DEMO_TOKEN to choose one):"
  echo "   $TOKEN"
else
  echo "== demo token: the one in TELGATE_DEMO_TOKEN"
fi
echo "== health (overall, backend pbx): open without a token"
health ""
health telgate.backend.pbx
echo "== services (server reflection): open without a token"
curl_grpc --list-services "http://$GRPC" 2>/dev/null \
  || curl_grpc --list-methods "http://$GRPC"
echo "== an anonymous call is refused"
if curl_grpc -d '{}' "http://$GRPC/telgate.v1.CallControlService/ListChannels" 2>&1; then
  echo "the gateway answered an anonymous call: authentication is off" >&2
  exit 1
fi
echo "== backends (with the demo token)"
curl_grpc -H "$AUTH" -d '{}' "http://$GRPC/telgate.v1.BackendService/ListBackends"
# -- sippy: its link, then the CDRs its poller stored, on StreamCdrs --
echo "== backend sippy (the fake Sippy switch): health, then its CDRs on StreamCdrs"
for _ in $(seq 1 100); do
  if health telgate.backend.sippy | grep -q SERVING; then break; fi
  sleep 0.1
done
health telgate.backend.sippy
curl_grpc -H "$AUTH" -d '{"filter":{"backends":["sippy"]},"follow":false}' \
  "http://$GRPC/telgate.v1.CdrService/StreamCdrs" >"$LOG/sippy-cdrs.json"
echo "$(grep -c '"sourceId"' "$LOG/sippy-cdrs.json") Sippy CDRs stored so far; the first one:"
head -32 "$LOG/sippy-cdrs.json"
# -- end sippy --
echo "== the Python example (token from TELGATE_TOKEN): originate, events, list channels, hang up"
TELGATE_TOKEN=$TOKEN $BIN/python clients/python/examples/originate_call.py --target "$GRPC"
# -- Simotel: a two-way call through the fake Simotel, then its CDR (from the
# Cdr webhook) in the CDR store beside the AMI ones.
for _ in $(seq 1 100); do
  if health telgate.backend.simotel | grep -q SERVING; then break; fi
  sleep 0.1
done
echo "== Simotel: originate 204 -> 09120000001 (waits for the first party to answer)"
curl_grpc -H "$AUTH" -d "$SIMOTEL_GRPC_BODY" "http://$GRPC/telgate.v1.CallControlService/Originate"
echo "== Simotel: live channels (built from its NewState / OutgoingCall webhooks)"
curl_grpc -H "$AUTH" -d '{"backend":"simotel"}' "http://$GRPC/telgate.v1.CallControlService/ListChannels"
echo "== Simotel: the call's CDR (from its Cdr webhook, once the call ended)"
for _ in $(seq 1 100); do
  CDRS=$(curl_grpc -H "$AUTH" -d '{"filter":{"backends":["simotel"]}}' \
    "http://$GRPC/telgate.v1.CdrService/ListCdrs")
  if echo "$CDRS" | grep -q sourceId; then break; fi
  sleep 0.1
done
echo "$CDRS"
# -- end Simotel

# -- routing: the example CRM router decides the calls that stop for a decision
# (Simotel call-map components, FastAGI): debtors to billing, others to sales.
echo "== live call routing: the example router (clients/python/examples/router.py) serves every route"
TELGATE_TOKEN=$TOKEN $BIN/python clients/python/examples/router.py --target "$GRPC" \
  --debtor 09121234567=1200000 --debtor 202=35000 --agi-context agi-test \
  --reminder beep \
  >"$LOG/router.log" 2>&1 &
ROUTER=$!
for _ in $(seq 1 100); do
  if grep -q "registered as" "$LOG/router.log"; then break; fi
  sleep 0.1
done
head -1 "$LOG/router.log"
# -- end routing

# -- Simotel components: the fake Simotel drives a debtor's call and another
# through a call map (Smart API "debt check" -> Exten API desk), asking the
# gateway's component URLs; the example router decides each step.
for caller in 09121234567 09350000000; do
  FAKE_SIMOTEL_HOOK_PASSWORD=$TELGATE_BACKENDS__SIMOTEL__WEBHOOK_PASSWORD \
    $BIN/python -m telgate_server.fakes.simotel.call_map --from "$caller" \
    --components http://127.0.0.1:18081/simotel/simotel/components --user simotel-hook
done
# -- end Simotel components

# -- FastAGI: two simulated Asterisk calls enter agi-test,100, whose
# AGI(agi://$AGI_ADDR/${AGISCRIPT}) step asks the gateway; the example router
# sends the debtor (caller 202) to billing (agi-test,300) after a reminder and
# the other caller to sales (agi-test,200). The simulator, like the lab, has
# no digit sounds: the router is told its say_number step failed, and the
# debtor's call still goes on to billing.
echo "== live call routing, Asterisk: the simulator's AGI() step asks the gateway's FastAGI server"
for caller in 202 203; do
  BODY='{"backend":"pbx","endpoint":"Local/201@phones","callerId":{"number":"'$caller'"},'
  BODY+='"destination":{"extension":{"context":"agi-test","extension":"100"}},'
  BODY+='"variables":{"AGISCRIPT":"debt check"},"wait":"ORIGINATE_WAIT_RESULT"}'
  curl_grpc -H "$AUTH" -d "$BODY" "http://$GRPC/telgate.v1.CallControlService/Originate" >/dev/null
  for _ in $(seq 1 100); do
    if sed -n '/ agi route .* from '"$caller"' /,$p' "$LOG/router.log" | grep -q "^ended"; then break; fi
    sleep 0.1
  done
done
sed -n '/ agi route /,$p' "$LOG/router.log"
# -- end FastAGI

cat <<MSG

telgate is running on $GRPC (simulator on 127.0.0.1:$AMI_PORT; logs in $LOG;
the router's decisions in $LOG/router.log).
Every call needs the demo token (health and reflection excepted). Try it:
  export TELGATE_TOKEN='$TOKEN'
  $BIN/buf curl --protocol grpc --http2-prior-knowledge -H "authorization: Bearer \$TELGATE_TOKEN" -d '{}' http://$GRPC/telgate.v1.CallControlService/ListChannels
  $BIN/buf curl --protocol grpc --http2-prior-knowledge -H "authorization: Bearer \$TELGATE_TOKEN" -d '{"filter":{"types":["EVENT_TYPE_CHANNEL_HUNG_UP"]}}' http://$GRPC/telgate.v1.EventService/Subscribe
  grpcurl -plaintext -H "authorization: Bearer \$TELGATE_TOKEN" $GRPC list   # if you have grpcurl
  $BIN/python clients/python/examples/originate_call.py --target $GRPC
Press Ctrl-C to stop.
MSG
if [ "${DEMO_EXIT:-0}" = 1 ]; then exit 0; fi
wait "$GW"
