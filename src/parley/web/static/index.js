// After an implicit-grant login Parley redirects here with the token in the fragment:
// show who signed in, then drop the token from the address bar.
(function () {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("access_token");
  if (!token) return;
  history.replaceState(null, "", location.pathname);
  fetch("/api/v2/users/me", { headers: { Authorization: "Bearer " + token } })
    .then((r) => r.json())
    .then((me) => {
      const who = document.getElementById("who");
      who.textContent = me.name
        ? "Signed in as " + me.name + " (" + me.email + "), organisation " + me.organization.name + "."
        : "Sign-in failed: " + me.message;
    });
})();
