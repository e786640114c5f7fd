// Passwordless sign-in end to end: email, the code from the mail folder typed into the
// six boxes (each digit advances, the last one submits), the signed-in view, and a
// reload that stays signed in with the access token only in memory.
import { BASE_URL, Mailbox, check, openPage, scenario, typeCode, uniqueEmail, waitForView } from "./lib.mjs";

await scenario("passwordless", async (browser) => {
  const { page } = await openPage(browser);
  const mailbox = new Mailbox();
  const email = uniqueEmail("ann");

  await page.goto(`${BASE_URL}/`);
  await waitForView(page, "email");
  check((await page.title()).startsWith("Sign in"), "the title names the view");
  check(await page.locator("#oauth").isHidden(), "no OAuth buttons when no provider is configured");
  await page.locator("#email-address").fill(email);
  await page.getByRole("button", { name: "Email me a code" }).click();

  await waitForView(page, "code");
  check((await page.locator("#code-email").textContent()) === email, "the code view names the address");
  const status = await page.getByRole("status").textContent();
  check(status.includes(email), `the status says where the code went: ${status}`);
  const boxes = page.locator("#code-boxes input");
  check((await boxes.count()) === 6, "six code boxes");
  check(
    await boxes.first().evaluate((input) => document.activeElement === input),
    "focus moves to the first box",
  );
  check((await boxes.nth(2).getAttribute("aria-label")) === "Code, digit 3 of 6", "each box is labelled");

  const code = await mailbox.nextCode(email);
  // Three digits: focus has advanced to the fourth box.
  await typeCode(page, code.slice(0, 3));
  check(await boxes.nth(3).evaluate((input) => document.activeElement === input), "typing advances to the next box");
  // Backspace on an empty box goes back and clears the previous digit.
  await page.keyboard.press("Backspace");
  check((await boxes.nth(2).inputValue()) === "", "Backspace clears the previous box");
  // The rest of the code, from the third digit; the last digit submits by itself.
  await page.keyboard.type(code.slice(2), { delay: 30 });

  await waitForView(page, "account");
  check((await page.locator("#me-email").textContent()) === email, "the signed-in view shows the address");
  check((await page.locator("#me-verified").textContent()) === "Yes", "the address is verified");
  check(
    await page.locator("#account-title").evaluate((heading) => document.activeElement === heading),
    "focus moves to the signed-in view's heading",
  );
  const sessions = page.locator("#sessions li");
  check((await sessions.count()) === 1, "one session");
  check((await sessions.first().textContent()).includes("This device"), "the current session is marked");

  const stored = await page.evaluate(() => ({
    session: Object.keys(sessionStorage),
    local: Object.keys(localStorage),
    localValues: Object.values(localStorage).join(" "),
    values: Object.values(sessionStorage).join(" "),
  }));
  check(
    stored.local.length === 1 && stored.local[0] === "otp-auth.device_token",
    `only the device token is in localStorage: ${stored.local}`,
  );
  check(/^[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$/.test(stored.localValues), "the device token has its shape");
  check(stored.session.length === 1 && stored.session[0] === "otp-auth.refresh_token", `only the refresh token is stored: ${stored.session}`);
  check(!stored.values.includes("v4.public."), "the access token is never stored");

  // A reload in the same tab stays signed in (the refresh token is rotated).
  await page.reload();
  await waitForView(page, "account");
  check((await page.locator("#me-email").textContent()) === email, "still signed in after a reload");
  page.assertClean();
});
