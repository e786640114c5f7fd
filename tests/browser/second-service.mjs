// The second Python service's front end, unchanged but for its API address, served
// from its own origin (FRONT_PORT on 127.0.0.1, as its default http://127.0.0.1:5500)
// against otp-server: register, enter the mailed code, log out, a wrong then the right
// password, and the start of a Google sign-in (the provider's page is intercepted: the
// test only checks where the browser is sent).
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { BASE_URL, Mailbox, check, openPage, scenario, uniqueEmail } from "./lib.mjs";

const FRONT_PORT = Number(process.env.FRONT_PORT);
const FRONT = `http://127.0.0.1:${FRONT_PORT}`;
const PROVIDER = process.env.PROVIDER_ORIGIN;
const PASSWORD = "correct horse battery";

const html = (await readFile(new URL("./second-service/index.html", import.meta.url), "utf8")).replace("__API_URL__", BASE_URL);
const front = createServer((request, response) => {
  if (request.url === "/" || request.url.startsWith("/index.html")) {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    response.end(html);
  } else {
    response.writeHead(404);
    response.end();
  }
});
await new Promise((resolve) => front.listen(FRONT_PORT, "127.0.0.1", resolve));

async function message(page, expected) {
  try {
    await page.waitForFunction(
      (text) => document.getElementById("message").textContent.includes(text), expected, { timeout: 10000 },
    );
  } catch (error) {
    const shown = await page.locator("#message").textContent();
    throw new Error(`expected a message with "${expected}", the page shows "${shown}"; ${page.problems.join("; ")}`);
  }
}

try {
  await scenario("second-service", async (browser) => {
    const { page } = await openPage(browser, {}, { allowOrigins: [FRONT, PROVIDER] });
    const mailbox = new Mailbox();
    const email = uniqueEmail("front");
    check(new URL(FRONT).origin !== new URL(BASE_URL).origin, "the page is on another origin than the API");

    await page.goto(`${FRONT}/index.html`);
    await page.locator("#register-email").fill(email);
    await page.locator("#register-password").fill(PASSWORD);
    await page.getByRole("button", { name: "Register" }).click();
    await message(page, "a code has been sent");
    await page.locator("#otp-form").waitFor({ state: "visible" });
    await page.locator("#otp-code").fill(await mailbox.nextCode(email));
    await page.getByRole("button", { name: "Verify" }).click();
    await message(page, `Verified: ${email}`);
    await page.locator("#profile-email").waitFor({ state: "visible" });
    check((await page.locator("#profile-email").textContent()) === email, "/auth/me answered with the token");

    await page.getByRole("button", { name: "Logout" }).click();
    await message(page, "Logged out");

    await page.locator("#login-email").fill(email);
    await page.locator("#login-password").fill("not the password");
    await page.getByRole("button", { name: "Login", exact: true }).click();
    await message(page, "incorrect");
    await page.locator("#login-password").fill(PASSWORD);
    await page.getByRole("button", { name: "Login", exact: true }).click();
    await message(page, `Logged in as ${email} (Bearer)`);
    check((await page.locator("#profile-email").textContent()) === email, "the profile after log-in");

    // The Google button: the page asks otp-server to start and follows auth_url.
    let authorize = null;
    await page.route(`${PROVIDER}/**`, async (route) => {
      authorize = new URL(route.request().url());
      await route.fulfill({ status: 200, contentType: "text/html", body: "<p>provider</p>" });
    });
    await page.getByRole("button", { name: "Login with Google" }).click();
    await page.waitForURL(`${PROVIDER}/**`);
    check(authorize !== null, "the browser went to the provider");
    check(authorize.searchParams.get("redirect_uri") === `${FRONT}/index.html`, `back to the front end: ${authorize}`);
    check(authorize.searchParams.get("client_id") === "front-end-test-client", "the configured client");
    check((authorize.searchParams.get("state") || "").length >= 32, "a state");
    check(authorize.searchParams.get("code_challenge_method") === "S256", "PKCE");
    page.assertClean();
  });
} finally {
  front.close();
}
