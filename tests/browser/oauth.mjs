// "Sign in with Google / GitHub": the buttons appear for the providers the server
// lists, and a sign-in goes start -> provider -> /oauth/callback -> callback. This
// scenario checks what the page itself does (the exact requests it sends, a forged
// state, a cancelled sign-in), so it answers the three OAuth routes itself, by their
// documented contract, and "the provider" sends the browser straight back to
// /oauth/callback. The tokens the callback answers are real ones, from a passwordless
// sign-in. oauth-providers.mjs signs in through the real routes and fake providers.
import { BASE_URL, Mailbox, check, errorText, openPage, scenario, uniqueEmail, waitForView } from "./lib.mjs";

async function realTokens(email) {
  const mailbox = new Mailbox();
  await mailbox.skipExisting();
  const post = (path, body) => fetch(`${BASE_URL}/auth/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  check((await post("send-otp", { email })).status === 202, "send-otp");
  const verified = await post("verify-otp", { email, code: await mailbox.nextCode(email) });
  check(verified.status === 200, "verify-otp");
  return verified.json();
}

await scenario("oauth", async (browser) => {
  const { page } = await openPage(browser);
  const email = uniqueEmail("gina");
  const callback = `${BASE_URL}/oauth/callback`;
  const seen = [];

  await page.route("**/auth/oauth/providers", (route) =>
    route.fulfill({ json: { providers: ["google", "github"] } }));
  await page.route("**/auth/oauth/*/start?*", (route) => {
    const url = new URL(route.request().url());
    seen.push(`start ${url.pathname} ${url.searchParams.get("redirect_uri")}`);
    const provider = url.pathname.split("/")[3];
    route.fulfill({
      json: { provider, auth_url: `${callback}?code=provider-code&state=state-123`, state: "state-123" },
    });
  });
  await page.route("**/auth/oauth/*/callback", async (route) => {
    const request = route.request();
    seen.push(`callback ${request.method()} ${new URL(request.url()).pathname} ${request.postData()}`);
    route.fulfill({ json: { ...(await realTokens(email)), provider: "google" } });
  });

  await page.goto(`${BASE_URL}/`);
  await waitForView(page, "email");
  const google = page.getByRole("button", { name: "Sign in with Google" });
  await google.waitFor();
  check(await page.getByRole("button", { name: "Sign in with GitHub" }).isVisible(), "a button per provider");

  await google.click();
  await waitForView(page, "account");
  check((await page.locator("#me-email").textContent()) === email, "signed in");
  check(new URL(page.url()).pathname === "/" && !page.url().includes("code="), `code and state leave the address bar: ${page.url()}`);
  check(seen[0] === `start /auth/oauth/google/start ${callback}`, `start asks with the callback address: ${seen[0]}`);
  const body = JSON.parse(seen[1].split(" ").slice(3).join(" "));
  check(seen[1].startsWith("callback POST /auth/oauth/google/callback"), seen[1]);
  check(body.code === "provider-code" && body.state === "state-123" && body.redirect_uri === callback, `callback body: ${seen[1]}`);
  check(await page.evaluate(() => sessionStorage.getItem("otp-auth.oauth") === null), "the pending sign-in is forgotten");

  // Back from the provider with a state this tab never started: refused.
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(`${callback}?code=other&state=forged`);
  await page.locator("#error").waitFor({ state: "visible" });
  check((await errorText(page)) === "That sign-in link is no longer valid. Please start again.", "a forged state is refused");
  check(seen.length === 2, "no callback call for a forged state");

  // The person cancelled at the provider.
  await page.evaluate(() => sessionStorage.setItem("otp-auth.oauth", JSON.stringify({ provider: "github", state: "s" })));
  await page.goto(`${callback}?error=access_denied&state=s`);
  await page.locator("#error").waitFor({ state: "visible" });
  check((await errorText(page)) === "Sign-in with GitHub was cancelled.", "a cancelled sign-in in plain words");
  page.assertClean();
});
