#!/bin/sh
# usage: call.sh [DIGIT] [ASTERISK host:port] [SIPP OPTION...]
# Calls extension 100, talks to the scripted agent, then presses DIGIT during the survey question.
# Further options go to sipp after the defaults below, so they override them; e.g. 200 callers,
# 20 new ones a second, from other local ports:
#   call.sh 4 127.0.0.1:5060 -m 200 -l 200 -r 20 -p 5072 -mp 6100
# Exit code: sipp's (0 = every call ended with cc-csat's BYE).
set -eu
digit="${1:-4}"
target="${2:-127.0.0.1:5060}"
shift $(( $# < 2 ? $# : 2 ))
pcap="/usr/share/sip-tester/dtmf_2833_${digit}.pcap"
[ "$digit" = "*" ] && pcap=/usr/share/sip-tester/dtmf_2833_star.pcap
[ "$digit" = "#" ] && pcap=/usr/share/sip-tester/dtmf_2833_pound.pcap
[ -f "$pcap" ] || { echo "no DTMF pcap for '$digit'" >&2; exit 2; }
scenario="$(mktemp --suffix=.xml)"
trap 'rm -f "$scenario"' EXIT
# SCENARIO: another scenario of this folder (transfer.sh's PBX scenarios).
sed "s#@DTMF_PCAP@#${pcap}#" "$(dirname "$0")/${SCENARIO:-csat-caller.xml}" > "$scenario"
sipp -sf "$scenario" -s 100 -m 1 -l 1 -i 127.0.0.1 -p 5070 -mp 6000 -timeout 90s -trace_err -nostdin "$@" "$target"
