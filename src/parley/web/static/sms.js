// SMS text measurement, the same rules as the server's (domain/sms_text.py): GSM-7 counts
// septets (the extension characters take two, and an escape pair never straddles two parts),
// anything else is UCS-2 and counts UTF-16 code units (a surrogate pair never straddles two).
export const MAX_SEND_CHARACTERS = 765;

const GSM7_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà");
const GSM7_EXTENSION = new Set("\f^{}\\[~]|€");
const SINGLE = { "GSM-7": 160, "UCS-2": 70 };
const PART = { "GSM-7": 153, "UCS-2": 67 };

/** {encoding, units, parts, characters, left, overLimit}; `left` is units left in this part. */
export function analyse(text) {
  const chars = Array.from(text); // code points
  const gsm = chars.every((c) => GSM7_BASIC.has(c) || GSM7_EXTENSION.has(c));
  const encoding = gsm ? "GSM-7" : "UCS-2";
  const costs = chars.map((c) => (gsm ? (GSM7_EXTENSION.has(c) ? 2 : 1) : (c.length === 2 ? 2 : 1)));
  const units = costs.reduce((a, b) => a + b, 0);
  let parts = 0;
  let used = 0;
  if (units === 0) {
    parts = 0;
  } else if (units <= SINGLE[encoding]) {
    parts = 1;
    used = units;
  } else {
    parts = 1;
    for (const cost of costs) {
      if (used + cost > PART[encoding]) { parts++; used = 0; }
      used += cost;
    }
  }
  const limit = parts <= 1 ? SINGLE[encoding] : PART[encoding];
  const characters = chars.length; // code points, as the server's limit counts them
  return { encoding, units, parts, characters, left: limit - used,
    overLimit: characters > MAX_SEND_CHARACTERS };
}

/** A one-line description for the reply box: "GSM-7 · 1 part · 148 left · 12/765". */
export function describe(info) {
  const parts = `${info.parts} ${info.parts === 1 ? "part" : "parts"}`;
  return `${info.encoding} · ${parts} · ${info.left} left in this part · ` +
    `${info.characters}/${MAX_SEND_CHARACTERS} characters`;
}
