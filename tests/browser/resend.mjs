// The resend button: asked too early, the server's 429 Retry-After becomes a visible
// countdown on a disabled button; when it ends, a new code is sent and the old one no
// longer works. The server runs with OTP_RESEND_COOLDOWN_SECONDS=3.
import { BASE_URL, Mailbox, check, errorText, openPage, scenario, typeCode, uniqueEmail, waitForView } from "./lib.mjs";

await scenario("resend", async (browser) => {
  const { page } = await openPage(browser);
  const mailbox = new Mailbox();
  const email = uniqueEmail("dan");

  await page.goto(`${BASE_URL}/`);
  await page.locator("#email-address").fill(email);
  await page.getByRole("button", { name: "Email me a code" }).click();
  await waitForView(page, "code");
  const first = await mailbox.nextCode(email);

  const resend = page.locator("#code-resend");
  await resend.click();
  await page.locator("#error").waitFor({ state: "visible" });
  const message = await errorText(page);
  check(/You can ask for another in \d+ seconds?; the last code still works\./.test(message), `cooldown in plain words: ${message}`);
  check(await resend.isDisabled(), "the button waits");
  const label = await resend.textContent();
  const shown = Number(/\((\d+) s\)/.exec(label)?.[1]);
  check(shown >= 1 && shown <= 3, `a countdown from Retry-After: ${label}`);
  check((await resend.getAttribute("aria-label")).includes("available in"), "the countdown is in the button's name");
  if (shown > 1) {
    await page.waitForFunction((before) => {
      const match = /\((\d+) s\)/.exec(document.getElementById("code-resend").textContent);
      return match && Number(match[1]) < before;
    }, shown, { timeout: 3000 });
  }
  await page.waitForFunction(() => !document.getElementById("code-resend").disabled, null, { timeout: 6000 });
  check((await resend.textContent()) === "Send a new code", "the label is restored");

  await resend.click();
  await page.getByRole("status").filter({ hasText: "We sent a new code" }).waitFor();
  const second = await mailbox.nextCode(email);

  if (second !== first) {
    await typeCode(page, first);
    await page.locator("#error").waitFor({ state: "visible" });
    check((await errorText(page)).startsWith("That code isn't right"), "the replaced code is refused");
  }
  await typeCode(page, second);
  await waitForView(page, "account");
  page.assertClean();
});
