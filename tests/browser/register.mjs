// Register with a password, confirm with the code (pasted whole into the boxes), sign
// out, log in with the password; then a log-in that the server answers with the
// "enter the code" step (202 otp_required), finished with a real code.
import {
  BASE_URL, Mailbox, check, errorText, openPage, pasteInto, scenario, typeCode, uniqueEmail, waitForView,
} from "./lib.mjs";

const PASSWORD = "correct horse battery";

await scenario("register", async (browser) => {
  const { page } = await openPage(browser);
  const mailbox = new Mailbox();
  const email = uniqueEmail("bob");

  await page.goto(`${BASE_URL}/`);
  await waitForView(page, "email");
  await page.getByRole("button", { name: "Create an account with a password" }).click();
  await waitForView(page, "register");
  await page.locator("#register-email").fill(email);

  // A short password is refused before anything is sent.
  await page.locator("#register-password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  check((await errorText(page)).includes("at least 8 characters"), "a short password is explained");

  // Show / hide.
  const password = page.locator("#register-password");
  await password.fill(PASSWORD);
  const toggle = page.locator("#view-register button.reveal");
  check((await toggle.getAttribute("aria-label")) === "Show password", "the toggle is labelled");
  await toggle.click();
  check((await password.getAttribute("type")) === "text", "Show reveals the password");
  check((await toggle.getAttribute("aria-pressed")) === "true", "the toggle reports its state");
  await toggle.click();
  check((await password.getAttribute("type")) === "password", "Hide masks it again");

  await page.getByRole("button", { name: "Create account" }).click();
  await waitForView(page, "code");
  check((await errorText(page)) === "", "the earlier error is cleared");
  const code = await mailbox.nextCode(email);
  // The whole code pasted into the first box fills every box and submits.
  await pasteInto(page, "#code-boxes input >> nth=0", ` ${code.slice(0, 3)}-${code.slice(3)} `);
  await waitForView(page, "account");
  check((await page.locator("#me-password").textContent()) === "Set", "the account has a password");

  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await waitForView(page, "email");

  // A wrong password, then the right one (the code check is recent: no code needed).
  await page.getByRole("button", { name: "Log in with a password" }).click();
  await waitForView(page, "login");
  await page.locator("#login-email").fill(email);
  await page.locator("#login-password").fill("wrong password");
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await page.locator("#error").waitFor({ state: "visible" });
  check((await errorText(page)) === "The email address or password is incorrect.", "invalid_credentials in plain words");
  await page.locator("#login-password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await waitForView(page, "account");
  check((await page.locator("#sessions li").count()) === 1, "the logged-out session is gone, the new one listed");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await waitForView(page, "email");

  // The code re-check: the server asks for it when the last code check is older than
  // the access-token lifetime (30 minutes), too long to wait for here. The log-in
  // answer is replaced by that 202, while the server really mails a code
  // (send-otp), which the page then verifies for real.
  // (The server runs with OTP_RESEND_COOLDOWN_SECONDS=1: a code went out a moment ago.)
  await page.route("**/auth/login", async (route) => {
    let sent;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      sent = await fetch(`${BASE_URL}/auth/send-otp`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email }),
      });
      if (sent.status !== 429) break;
      await new Promise((resolve) => setTimeout(resolve, 1000 * Number(sent.headers.get("Retry-After") || 1)));
    }
    check(sent.status === 202, `send-otp answered ${sent.status}`);
    await route.fulfill({
      status: 202,
      contentType: "application/json",
      body: JSON.stringify({
        otp_required: true,
        message: "Enter the code sent to your email address to finish logging in.",
        expires_in: 300,
        resend_after: 60,
      }),
    });
  });
  await page.getByRole("button", { name: "Log in with a password" }).click();
  await page.locator("#login-email").fill(email);
  await page.locator("#login-password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await waitForView(page, "code");
  check((await page.getByRole("status").textContent()).includes("enter the code"), "the page asks for the code");
  const resend = page.locator("#code-resend");
  check(await resend.isDisabled(), "resend waits for resend_after");
  check(/\(\d+ s\)/.test(await resend.textContent()), "with a visible countdown");
  await typeCode(page, await mailbox.nextCode(email));
  await waitForView(page, "account");
  await page.unroute("**/auth/login");
  page.assertClean();
});
