// Sign-in with Google and GitHub through the server's real OAuth routes: the server is
// configured with the fake providers of otp-oauth's `testing` feature (local HTTP
// servers, started by crates/server/tests/browser.rs), whose authorization page
// consents at once as the person named in GOOGLE_EMAIL / GITHUB_EMAIL and sends the
// browser back to /oauth/callback. Nothing is stubbed in the page.
import { BASE_URL, check, openPage, scenario, waitForView } from "./lib.mjs";

const allowOrigins = (process.env.PROVIDER_ORIGINS || "").split(",").filter(Boolean).map((uri) => new URL(uri).origin);

async function signInWith(browser, label, email) {
  const { context, page } = await openPage(browser, {}, { allowOrigins });
  const providerCalls = [];
  page.on("request", (request) => {
    if (allowOrigins.includes(new URL(request.url()).origin)) providerCalls.push(new URL(request.url()).pathname);
  });
  await page.goto(`${BASE_URL}/`);
  await waitForView(page, "email");
  const button = page.getByRole("button", { name: `Sign in with ${label}` });
  await button.waitFor();
  await button.click();
  await waitForView(page, "account");
  check((await page.locator("#me-email").textContent()) === email, `signed in with ${label} as ${email}`);
  check(new URL(page.url()).pathname === "/" && !page.url().includes("code="), `code and state leave the address bar: ${page.url()}`);
  check(providerCalls.length === 1, `one visit to ${label}'s authorization page: ${providerCalls}`);
  check(await page.evaluate(() => sessionStorage.getItem("otp-auth.oauth") === null), "the pending sign-in is forgotten");
  page.assertClean();
  await context.close();
}

await scenario("oauth-providers", async (browser) => {
  check(allowOrigins.length === 2, "PROVIDER_ORIGINS names the two fakes");
  const listed = await (await fetch(`${BASE_URL}/auth/oauth/providers`)).json();
  check(JSON.stringify(listed) === JSON.stringify({ providers: ["google", "github"] }), `providers: ${JSON.stringify(listed)}`);
  await signInWith(browser, "Google", process.env.GOOGLE_EMAIL);
  await signInWith(browser, "GitHub", process.env.GITHUB_EMAIL);
  // A second Google sign-in finds the identity linked the first time.
  await signInWith(browser, "Google", process.env.GOOGLE_EMAIL);
});
