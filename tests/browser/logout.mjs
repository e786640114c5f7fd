// Sessions and sign-out: two browsers signed in to one account; the first signs the
// other out from its session list (the other is then signed out on reload), then signs
// itself out; its old access token no longer works.
import { BASE_URL, Mailbox, check, errorText, openPage, scenario, signInWithCode, uniqueEmail, waitForView } from "./lib.mjs";

await scenario("logout", async (browser) => {
  const mailbox = new Mailbox();
  const email = uniqueEmail("eve");
  const laptop = await openPage(browser, { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36" });
  const phone = await openPage(browser, {
    userAgent: "Mozilla/5.0 (Linux; Android 15) Chrome/156.0 Mobile Safari/537.36",
  });

  await signInWithCode(phone.page, mailbox, email);
  // The server runs with OTP_RESEND_COOLDOWN_SECONDS=1; wait it out before the next code.
  await laptop.page.waitForTimeout(1100);
  let accessToken = null;
  laptop.page.on("request", (request) => {
    const header = request.headers().authorization;
    if (header) accessToken = header.replace(/^Bearer /, "");
  });
  await signInWithCode(laptop.page, mailbox, email);

  const sessions = laptop.page.locator("#sessions li");
  check((await sessions.count()) === 2, "both sessions are listed");
  const other = sessions.filter({ hasNotText: "This device" });
  check((await other.textContent()).includes("Chrome on Android"), "the other device is described");
  await other.getByRole("button", { name: /^Sign out Chrome on Android/ }).click();
  await laptop.page.getByRole("status").filter({ hasText: "That session is signed out." }).waitFor();
  check((await sessions.count()) === 1, "one session left");

  await phone.page.reload();
  await waitForView(phone.page, "email");

  await laptop.page.getByRole("button", { name: "Sign out", exact: true }).click();
  await waitForView(laptop.page, "email");
  check((await laptop.page.getByRole("status").textContent()) === "You're signed out.", "the sign-out is confirmed");
  check((await errorText(laptop.page)) === "", "no error");
  check(await laptop.page.evaluate(() => sessionStorage.length === 0), "the refresh token is forgotten");
  check(accessToken, "the page sent its access token");
  const me = await fetch(`${BASE_URL}/auth/me`, { headers: { Authorization: `Bearer ${accessToken}` } });
  check(me.status === 401, `the old access token is refused after sign-out (${me.status})`);

  await laptop.page.reload();
  await waitForView(laptop.page, "email");
  laptop.page.assertClean();
  phone.page.assertClean();
});
