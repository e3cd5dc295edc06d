// The small HTML pages of the rating links: what a caller sees on a phone after tapping a link.
// No script, no external resource; every value escaped.

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}fieldset{border:0;padding:0;display:flex;gap:.5rem}label.score{flex:1;text-align:center;border:1px solid #888;border-radius:.5rem;padding:.8rem 0;font-size:1.2rem}
textarea{width:100%;min-height:6rem;margin:.8rem 0}button{font-size:1.1rem;padding:.6rem 1.2rem}</style>
</head><body>${body}</body></html>
`;
}

export function thankYouPage(score: number): string {
  return page('Thank you', `<h1>Thank you for your rating</h1><p>You rated us ${score} out of 5.</p>`);
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}

/** The survey form: a score from 1 to 5 and an optional comment, posted to `action`. */
export function surveyFormPage(action: string): string {
  const scores = [1, 2, 3, 4, 5].map((score) => `<label class="score"><input type="radio" name="rating" value="${score}" required> ${score}</label>`).join('');
  return page(
    'How did we do?',
    `<h1>How did we do?</h1><p>1 is very poor, 5 is excellent.</p>
<form method="post" action="${escapeHtml(action)}"><fieldset>${scores}</fieldset>
<label for="feedback">Anything to add? (optional)</label><textarea id="feedback" name="feedback" maxlength="1000"></textarea>
<button type="submit">Send</button></form>`,
  );
}
