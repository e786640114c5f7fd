// Account self-service through the page: register, change the password (then log in
// with the new one), change the address with the code mailed to the new one, and
// delete the account (after which its address no longer logs in).
import { BASE_URL, Mailbox, check, errorText, openPage, scenario, typeCode, uniqueEmail, waitForView } from "./lib.mjs";

const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "violet tractor umbrella 93";

async function status(page) {
  return (await page.locator("#status").textContent()) || "";
}

async function waitForStatus(page, text) {
  await page.waitForFunction(
    (expected) => (document.getElementById("status").textContent || "").includes(expected),
    text,
    { timeout: 10000 },
  );
}

await scenario("account", async (browser) => {
  const { page } = await openPage(browser);
  const mailbox = new Mailbox();
  const email = uniqueEmail("carol");
  const moved = uniqueEmail("carol-new");

  // Register with a password and confirm it.
  await page.goto(`${BASE_URL}/`);
  await waitForView(page, "email");
  await page.getByRole("button", { name: "Create an account with a password" }).click();
  await waitForView(page, "register");
  await page.locator("#register-email").fill(email);
  await page.locator("#register-password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await waitForView(page, "code");
  await typeCode(page, await mailbox.nextCode(email));
  await waitForView(page, "account");

  // Change the password: a wrong current one is refused, the right one works.
  await page.locator("#change-password-box summary").click();
  await page.locator("#cp-current").fill("not my password");
  await page.locator("#cp-new").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.locator("#error").waitFor({ state: "visible" });
  check((await errorText(page)) !== "", "a wrong current password is refused");
  await page.locator("#cp-current").fill(PASSWORD);
  await page.locator("#cp-new").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await waitForStatus(page, "password is changed");

  // Sign out; the old password no longer logs in, the new one does.
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await waitForView(page, "email");
  await page.getByRole("button", { name: "Log in with a password" }).click();
  await waitForView(page, "login");
  await page.locator("#login-email").fill(email);
  await page.locator("#login-password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await page.locator("#error").waitFor({ state: "visible" });
  check((await errorText(page)) === "The email address or password is incorrect.", "the old password is gone");
  await page.locator("#login-password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await waitForView(page, "account");

  // Change the address: confirmed with the password, then the code sent to the new one.
  await page.locator("#change-email-box summary").click();
  await page.locator("#ce-new").fill(moved);
  await page.locator("#ce-password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Send a code to the new address" }).click();
  await page.locator("#confirm-email-form").waitFor({ state: "visible" });
  await page.locator("#ce-confirm-code").fill(await mailbox.nextCode(moved));
  await page.getByRole("button", { name: "Confirm new address" }).click();
  await waitForStatus(page, `now ${moved}`);
  check((await page.locator("#me-email").textContent()) === moved, "the account shows its new address");

  // Delete the account with the password.
  await page.locator("#delete-box summary").click();
  await page.locator("#da-password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Delete my account" }).click();
  await waitForView(page, "email");
  check((await status(page)).includes("deleted"), "the page says the account is deleted");

  // Its address no longer logs in.
  await page.getByRole("button", { name: "Log in with a password" }).click();
  await waitForView(page, "login");
  await page.locator("#login-email").fill(moved);
  await page.locator("#login-password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await page.locator("#error").waitFor({ state: "visible" });
  check((await errorText(page)) === "The email address or password is incorrect.", "the deleted account is gone");
});
