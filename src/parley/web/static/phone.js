// Phone numbers as the API wants them: E.164 (+ country code and number). The check here is
// for typing feedback only; the server's (libphonenumber) decides, and its message is shown.
export function normalise(raw) {
  return String(raw || "").replace(/[\s().-]/g, "");
}

/** null when it looks valid, else a short explanation of what is wrong. */
export function problem(raw) {
  const n = normalise(raw);
  if (!n) return "Enter a phone number such as +13125550123";
  if (!n.startsWith("+")) return "Start with + and the country code, e.g. +1 312 555 0123";
  if (!/^\+\d+$/.test(n)) return "Only digits after the +";
  if (n[1] === "0") return "A country code never starts with 0";
  if (n.length < 9) return "Too short for a phone number";
  if (n.length > 16) return "Too long: E.164 numbers have at most 15 digits";
  if (n.startsWith("+1")) {
    if (n.length !== 12) return "Numbers in +1 (US/Canada) have 10 digits after +1";
    if (!/^\+1[2-9]\d{2}[2-9]\d{6}$/.test(n)) {
      return "Not a valid +1 number: area code and exchange cannot start with 0 or 1";
    }
  }
  return null;
}
