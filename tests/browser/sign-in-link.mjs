// The sign-in link of a code mail: opening it (as a link scanner or a mail preview
// would, even one that runs the page's script) shows the page with the code filled in
// and spends nothing; pressing the button signs in, with the same single-use code.
import { BASE_URL, Mailbox, check, openPage, scenario, uniqueEmail, waitForView } from "./lib.mjs";

await scenario("sign-in-link", async (browser) => {
  const mailbox = new Mailbox();
  const email = uniqueEmail("link");
  const sent = await fetch(`${BASE_URL}/auth/send-otp`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email }),
  });
  check(sent.status === 202, `send-otp answered ${sent.status}`);
  const mail = await mailbox.nextMessage(email);
  const links = [...new Set(mail.match(/https?:\/\/[^\s"<>]+#email=[^\s"<>]+/g) || [])].map((link) =>
    link.replaceAll("&amp;", "&").replaceAll("&#x2f;", "/"),
  );
  check(links.length === 1, `one sign-in link in both parts of the mail: ${links}`);
  const link = links[0];
  check(link.startsWith(`${BASE_URL}/#`), `the link goes to the page (PUBLIC_URL): ${link}`);
  const code = new URLSearchParams(link.split("#")[1]).get("code");
  check(/^\d{6}$/.test(code), "the code is in the fragment");

  // A scanner's plain GET: the fragment is not even sent; the page comes back, nothing else.
  const scanned = await fetch(link, { redirect: "manual" });
  check(scanned.status === 200 && (await scanned.text()).includes("<html"), "a GET only shows the page");

  // A preview that runs the page: the code is filled in, and no code is checked.
  const preview = await openPage(browser);
  const verifications = [];
  preview.page.on("request", (request) => {
    if (request.url().includes("/verify-otp")) verifications.push(request.url());
  });
  await preview.page.goto(link);
  await waitForView(preview.page, "code");
  await preview.page.waitForTimeout(500);
  check(verifications.length === 0, "opening the link checks no code");
  await preview.context.close();

  // The person: the page shows the address and the code, and the button signs in.
  const { page } = await openPage(browser);
  await page.goto(link);
  await waitForView(page, "code");
  check(!page.url().includes("code="), `the code is taken out of the address bar: ${page.url()}`);
  check((await page.locator("#code-email").textContent()) === email, "the code view names the address");
  const boxes = await page.locator("#code-boxes input").evaluateAll((inputs) => inputs.map((input) => input.value).join(""));
  check(boxes === code, `the code is filled in: ${boxes}`);
  const status = await page.getByRole("status").textContent();
  check(status.includes("Press Continue"), `the page says to press the button: ${status}`);
  await page.waitForTimeout(300);
  check(await page.locator("#view-code").isVisible(), "still waiting for the button");
  await page.getByRole("button", { name: "Continue" }).click();
  await waitForView(page, "account");
  check((await page.locator("#me-email").textContent()) === email, "signed in as the address of the link");
  page.assertClean();

  // Single use: the same link cannot sign in again.
  const again = await fetch(`${BASE_URL}/auth/verify-otp`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, code }),
  });
  check(again.status >= 400, `the code was spent by the sign-in: ${again.status}`);
});
