// Where Parley's login page sends the browser back: exchange the code (PKCE) or take the
// token (implicit grant), then return to the page that asked for the sign-in.
import { completeSignIn } from "./auth.js";

completeSignIn().then((returnTo) => {
  const target = new URL(returnTo || "/app/", location.origin);
  // Only ever go back into this server's pages.
  location.replace(target.origin === location.origin ? target.href : "/app/");
}).catch((e) => {
  document.querySelector("h1").textContent = "Sign-in failed";
  document.getElementById("message").textContent = e.message;
  document.getElementById("message").setAttribute("role", "alert");
  document.getElementById("again").hidden = false;
});
