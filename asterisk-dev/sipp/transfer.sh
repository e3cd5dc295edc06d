#!/bin/sh
# usage: transfer.sh [DIGIT] [FRONT DOOR host:port] [SIPP OPTION...]
# A PBX handing its caller to the cc-csat SIP front door (README "Surveys for any PBX"): INVITE
# sip:csat@FRONT-DOOR with X-CSAT-Call-Id (call_prefix-N), X-CSAT-Agent-Id and X-CSAT-Queue; the
# caller presses DIGIT during the question. The context comes from the environment (sipp keeps the
# first -key of a name, so these are not overridable with -key), e.g.
#   CALL_PREFIX=pbx-42 AGENT=agent-007 QUEUE=sales-queue transfer.sh 2 127.0.0.1:5080
# Exit code: sipp's (0 = every call ended with cc-csat's BYE).
set -eu
digit="${1:-4}"
target="${2:-127.0.0.1:5080}"
shift $(( $# < 2 ? $# : 2 ))
pcap="/usr/share/sip-tester/dtmf_2833_${digit}.pcap"
[ "$digit" = "*" ] && pcap=/usr/share/sip-tester/dtmf_2833_star.pcap
[ "$digit" = "#" ] && pcap=/usr/share/sip-tester/dtmf_2833_pound.pcap
[ -f "$pcap" ] || { echo "no DTMF pcap for '$digit'" >&2; exit 2; }
scenario="$(mktemp --suffix=.xml)"
trap 'rm -f "$scenario"' EXIT
# SCENARIO=pbx-hangup.xml: the caller hangs up during the question instead.
sed "s#@DTMF_PCAP@#${pcap}#" "$(dirname "$0")/${SCENARIO:-pbx-transfer.xml}" > "$scenario"
sipp -sf "$scenario" -s csat -m 1 -l 1 -i 127.0.0.1 -p 5072 -mp 6200 -timeout 90s -trace_err -nostdin \
  -key call_prefix "${CALL_PREFIX:-pbx-$(date +%s)}" -key agent "${AGENT:-agent-001}" -key queue "${QUEUE:-sales-queue}" "$@" "$target"
