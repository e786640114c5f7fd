// The main screens on a desktop-sized window: sign-in, code entry with a wrong code,
// log-in with the password shown, and the signed-in view with two sessions. Writes
// PNGs to SCREENSHOT_DIR (docs/screenshots when regenerating them for the README).
import {
  BASE_URL, Mailbox, check, openPage, scenario, screenshot, signInWithCode, typeCode, uniqueEmail, waitForView,
} from "./lib.mjs";

await scenario("screenshots", async (browser) => {
  const viewport = { width: 900, height: 760 };
  const mailbox = new Mailbox();
  const email = "ann@example.com";

  // A second session, so the session list shows two devices.
  const other = await openPage(browser, {
    viewport,
    userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Version/18.0 Mobile/15E148 Safari/604.1",
  });
  await signInWithCode(other.page, mailbox, email);
  // The server runs with OTP_RESEND_COOLDOWN_SECONDS=1; wait it out before the next code.
  await other.page.waitForTimeout(1100);

  const { page } = await openPage(browser, {
    viewport,
    userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/156.0 Safari/537.36",
  });
  await page.goto(`${BASE_URL}/`);
  await waitForView(page, "email");
  await page.locator("#email-address").fill(email);
  await screenshot(page, "sign-in");

  await page.getByRole("button", { name: "Email me a code" }).click();
  await waitForView(page, "code");
  const code = await mailbox.nextCode(email);
  const wrong = code.split("").map((digit) => String((Number(digit) + 5) % 10)).join("");
  await typeCode(page, wrong);
  await page.locator("#error").waitFor({ state: "visible" });
  await typeCode(page, code.slice(0, 4));
  await screenshot(page, "code-entry");
  await page.keyboard.type(code.slice(4));
  await waitForView(page, "account");
  await page.locator("#sessions li >> nth=1").waitFor();
  await page.evaluate(() => document.activeElement.blur());
  await screenshot(page, "signed-in");

  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await waitForView(page, "email");
  await page.getByRole("button", { name: "Log in with a password" }).click();
  await waitForView(page, "login");
  await page.locator("#login-email").fill("bob@example.com");
  await page.locator("#login-password").fill("correct horse battery");
  await page.locator("#view-login button.reveal").click();
  await screenshot(page, "log-in");
  check(true, "screens captured");
  page.assertClean();
  other.page.assertClean();
});
