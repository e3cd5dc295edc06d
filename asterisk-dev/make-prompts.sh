#!/usr/bin/env bash
# Generates the survey's own prompts (stock Asterisk sounds have no rating question):
# espeak-ng speaks each text, sox converts it to 8 kHz, mono, 16-bit WAV, the format
# Asterisk plays without transcoding on a G.711 call. Output: DIR/csat/*.wav, played
# as sound:csat/<name>. Needs espeak-ng and sox (Debian: apt-get install espeak-ng sox).
set -euo pipefail
out="${1:-$(dirname "$0")/sounds}/csat"
mkdir -p "$out"
voice="${CSAT_VOICE:-en-us}"

say() { # name text
  local tmp
  tmp="$(mktemp --suffix=.wav)"
  espeak-ng -v "$voice" -s 150 -w "$tmp" "$2"
  sox "$tmp" -r 8000 -c 1 -b 16 -e signed-integer "$out/$1.wav" norm -3
  rm -f "$tmp"
  echo "$out/$1.wav"
}

say rate-intro "Thank you for calling. Please rate the service you just received."
say rate-keys  "Press 1 if you were very satisfied. 2 if satisfied. 3 if neither satisfied nor dissatisfied. 4 if dissatisfied. 5 if very dissatisfied."
say invalid    "Sorry, that is not one of the choices."
say no-input   "Sorry, we did not hear your choice."
say you-pressed "You pressed"
say thank-you  "Thank you for your feedback. Goodbye."
say goodbye    "We did not get your rating. Thank you for calling. Goodbye."
