#!/usr/bin/env bash
# Generates the survey's own prompts (stock Asterisk sounds have no rating question), in every
# language the IVRs use: espeak-ng speaks each text, sox converts it to 8 kHz, mono, 16-bit WAV,
# the format Asterisk plays without transcoding on a G.711 call.
#   usage: make-prompts.sh [DIR]        (default DIR: asterisk-dev/sounds)
# Output: DIR/<lang>/csat/<name>.wav, played as sound:csat/<name> in language <lang> (Asterisk
# looks in sounds/<lang>/csat/); give Asterisk's sounds folder as DIR (/var/lib/asterisk/sounds).
# Also DIR/fr/digits/0-9.wav: Debian's stock sounds are English only, and a confirm step speaks
# the caller's key back with digits:N (with asterisk-core-sounds-fr installed, drop those rows).
# Needs espeak-ng and sox (Debian: apt-get install espeak-ng sox).
# CSAT_LANGUAGES="en fr" limits the languages made; CSAT_VOICE_<lang> (e.g. CSAT_VOICE_en=en-gb)
# picks another espeak-ng voice.
set -euo pipefail
root="${1:-$(dirname "$0")/sounds}"
languages="${CSAT_LANGUAGES:-en fr}"
declare -A voices=([en]=en-us [fr]=fr)

# One row per prompt and language: sound name, language, text. A new prompt is one row per language;
# a new language is one row per prompt (and a voice above). Rows of a language not made are skipped.
prompts() {
  cat <<'TABLE'
csat/rate-intro   en  Thank you for calling. Please rate the service you just received.
csat/rate-intro   fr  Merci de votre appel. Veuillez évaluer le service que vous venez de recevoir.
csat/rate-keys    en  Press 1 if you were very satisfied. 2 if satisfied. 3 if neither satisfied nor dissatisfied. 4 if dissatisfied. 5 if very dissatisfied.
csat/rate-keys    fr  Appuyez sur 1 si vous êtes très satisfait. 2 si vous êtes satisfait. 3 si vous n'êtes ni satisfait ni insatisfait. 4 si vous êtes insatisfait. 5 si vous êtes très insatisfait.
csat/invalid      en  Sorry, that is not one of the choices.
csat/invalid      fr  Désolé, ce choix n'est pas proposé.
csat/no-input     en  Sorry, we did not hear your choice.
csat/no-input     fr  Désolé, nous n'avons pas entendu votre choix.
csat/you-pressed  en  You pressed
csat/you-pressed  fr  Vous avez appuyé sur
csat/thank-you    en  Thank you for your feedback. Goodbye.
csat/thank-you    fr  Merci pour votre avis. Au revoir.
csat/goodbye      en  We did not get your rating. Thank you for calling. Goodbye.
csat/goodbye      fr  Nous n'avons pas reçu votre évaluation. Merci de votre appel. Au revoir.
csat/consent      en  Please stay on the line for a short survey about this call. Press 1 to start, or 2 to skip it.
csat/consent      fr  Restez en ligne pour une courte enquête sur cet appel. Appuyez sur 1 pour commencer, ou sur 2 pour la passer.
csat/declined     en  No problem. Thank you for calling. Goodbye.
csat/declined     fr  Pas de problème. Merci de votre appel. Au revoir.
csat/resolved     en  Was your issue resolved today? Press 1 for yes, or 2 for no.
csat/resolved     fr  Votre demande a-t-elle été résolue aujourd'hui ? Appuyez sur 1 pour oui, ou sur 2 pour non.
csat/nps          en  On a scale from 0 to 10, how likely are you to recommend us to a friend? Enter a number, then press the pound key.
csat/nps          fr  Sur une échelle de 0 à 10, quelle est la probabilité que vous nous recommandiez à un ami ? Tapez un nombre, puis appuyez sur la touche dièse.
csat/invalid-nps  en  Sorry, please enter a number from 0 to 10.
csat/invalid-nps  fr  Désolé, veuillez taper un nombre de 0 à 10.
csat/comment      en  Please tell us, after the tone, what we could do better. Press the pound key when you are done.
csat/comment      fr  Après le bip, dites-nous ce que nous pourrions améliorer. Appuyez sur la touche dièse quand vous avez terminé.
csat/recorded     en  Thank you, your comment was recorded.
csat/recorded     fr  Merci, votre commentaire a bien été enregistré.
digits/0          fr  zéro
digits/1          fr  un
digits/2          fr  deux
digits/3          fr  trois
digits/4          fr  quatre
digits/5          fr  cinq
digits/6          fr  six
digits/7          fr  sept
digits/8          fr  huit
digits/9          fr  neuf
TABLE
}

say() { # lang name text
  local voice_var="CSAT_VOICE_$1" out="$root/$1/$2.wav" tmp
  local voice="${!voice_var:-${voices[$1]:-$1}}"
  mkdir -p "$(dirname "$out")"
  tmp="$(mktemp --suffix=.wav)"
  espeak-ng -v "$voice" -s 150 -w "$tmp" "$3"
  sox "$tmp" -r 8000 -c 1 -b 16 -e signed-integer "$out" norm -3
  rm -f "$tmp"
  echo "$out"
}

# Two at a time: about 40 files, each a separate espeak-ng and sox run.
pids=()
while read -r name lang text; do
  [ -n "$name" ] || continue
  case " $languages " in *" $lang "*) ;; *) continue ;; esac
  say "$lang" "$name" "$text" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done < <(prompts)
for pid in "${pids[@]}"; do wait "$pid"; done
