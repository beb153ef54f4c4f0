#!/usr/bin/env bash
# make demo: the AMI simulator (a fake Asterisk with background calls) and the
# gateway on 127.0.0.1:50051, a health and reflection check, then the Python
# example places a call. Leaves both running until Ctrl-C (DEMO_EXIT=1: stop
# after the checks).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
GRPC=127.0.0.1:50051
AMI_PORT=15038
LOG=${TMPDIR:-/tmp}/telgate-demo
mkdir -p "$LOG"

# The simulator's built-in lab account (a fixture value, not a real credential).
export TELGATE_BACKENDS__PBX__SECRET=telgate-secret

cleanup() { kill "${GW:-}" "${SIM:-}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$BIN/telgate-sim --port "$AMI_PORT" --traffic >"$LOG/sim.log" 2>&1 &
SIM=$!
$BIN/telgate serve --config examples/demo.toml >"$LOG/gateway.log" 2>&1 &
GW=$!

health() {
  $BIN/buf curl --protocol grpc --http2-prior-knowledge -d "{\"service\":\"$1\"}" \
    "http://$GRPC/grpc.health.v1.Health/Check" 2>/dev/null
}
for _ in $(seq 1 100); do
  if health telgate.backend.pbx | grep -q SERVING; then break; fi
  sleep 0.1
done
echo "== health (overall, backend pbx)"
health ""
health telgate.backend.pbx
echo "== services (server reflection)"
$BIN/buf curl --protocol grpc --http2-prior-knowledge --list-services "http://$GRPC" 2>/dev/null \
  || $BIN/buf curl --protocol grpc --http2-prior-knowledge --list-methods "http://$GRPC"
echo "== backends"
$BIN/buf curl --protocol grpc --http2-prior-knowledge -d '{}' \
  "http://$GRPC/telgate.v1.BackendService/ListBackends"
echo "== the Python example: originate, events, list channels, hang up"
$BIN/python clients/python/examples/originate_call.py --target "$GRPC"

cat <<MSG

telgate is running on $GRPC (simulator on 127.0.0.1:$AMI_PORT; logs in $LOG).
Try it:
  $BIN/buf curl --protocol grpc --http2-prior-knowledge -d '{}' http://$GRPC/telgate.v1.CallControlService/ListChannels
  $BIN/buf curl --protocol grpc --http2-prior-knowledge -d '{"filter":{"types":["channel_hung_up"]}}' http://$GRPC/telgate.v1.EventService/Subscribe
  grpcurl -plaintext $GRPC list            # if you have grpcurl
  $BIN/python clients/python/examples/originate_call.py --target $GRPC
Press Ctrl-C to stop.
MSG
if [ "${DEMO_EXIT:-0}" = 1 ]; then exit 0; fi
wait "$GW"
