// The launcher: after a sign-out, say so (the token was revoked at the server).
if (new URLSearchParams(location.search).has("signedout")) {
  document.getElementById("signedout").hidden = false;
  history.replaceState(null, "", location.pathname);
}
