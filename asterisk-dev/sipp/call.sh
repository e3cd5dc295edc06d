#!/bin/sh
# usage: call.sh [DIGIT] [ASTERISK host:port]
# Calls extension 100, talks to the scripted agent, then presses DIGIT during the survey question.
set -eu
digit="${1:-4}"
target="${2:-127.0.0.1:5060}"
pcap="/usr/share/sip-tester/dtmf_2833_${digit}.pcap"
[ "$digit" = "*" ] && pcap=/usr/share/sip-tester/dtmf_2833_star.pcap
[ "$digit" = "#" ] && pcap=/usr/share/sip-tester/dtmf_2833_pound.pcap
[ -f "$pcap" ] || { echo "no DTMF pcap for '$digit'" >&2; exit 2; }
scenario="$(mktemp --suffix=.xml)"
sed "s#@DTMF_PCAP@#${pcap}#" "$(dirname "$0")/csat-caller.xml" > "$scenario"
exec sipp -sf "$scenario" -s 100 -m 1 -l 1 -i 127.0.0.1 -p 5070 -mp 6000 -timeout 90s -trace_err -nostdin "$target"
