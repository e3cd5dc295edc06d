#!/bin/sh
# usage: transfer.sh [DIGIT] [FRONT DOOR host:port] [SIPP OPTION...]
# A PBX handing its caller to the cc-csat SIP front door (README "Surveys for any PBX"): INVITE
# sip:csat@FRONT-DOOR with X-CSAT-Call-Id (CALL_PREFIX-N), X-CSAT-Agent-Id and X-CSAT-Queue; the
# caller presses DIGIT during the question. The context comes from the environment (sipp keeps the
# first -key of a name, so these are not overridable with -key), e.g.
#   CALL_PREFIX=pbx-42 AGENT=agent-007 QUEUE=sales-queue transfer.sh 2 127.0.0.1:5080
# SCENARIO=pbx-hangup.xml: the caller hangs up during the question; pbx-hold.xml: the PBX holds and
# resumes the call first. Exit code: sipp's (0 = every call ended as the scenario expects).
set -eu
digit="${1:-4}"
target="${2:-127.0.0.1:5080}"
shift $(( $# < 2 ? $# : 2 ))
SCENARIO="${SCENARIO:-pbx-transfer.xml}" exec sh "$(dirname "$0")/call.sh" "$digit" "$target" -s csat -p 5072 -mp 6200 \
  -key call_prefix "${CALL_PREFIX:-pbx-$(date +%s)}" -key agent "${AGENT:-agent-001}" -key queue "${QUEUE:-sales-queue}" "$@"
