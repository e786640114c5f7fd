// A wrong code shows the error in plain words with the tries left, clears the boxes and
// puts focus back on the first; the right code then signs in.
import { BASE_URL, Mailbox, check, errorText, openPage, scenario, typeCode, uniqueEmail, waitForView } from "./lib.mjs";

await scenario("wrong-code", async (browser) => {
  const { page } = await openPage(browser);
  const mailbox = new Mailbox();
  const email = uniqueEmail("cat");

  await page.goto(`${BASE_URL}/`);
  await page.locator("#email-address").fill(email);
  await page.getByRole("button", { name: "Email me a code" }).click();
  await waitForView(page, "code");
  const code = await mailbox.nextCode(email);
  const wrong = code.split("").map((digit) => String((Number(digit) + 1) % 10)).join("");

  await typeCode(page, wrong);
  await page.locator("#error").waitFor({ state: "visible" });
  const message = await errorText(page);
  check(message === "That code isn't right. You have 4 tries left.", `the error in plain words: ${message}`);
  check((await page.locator("#error").getAttribute("role")) === "alert", "the error is announced");
  const boxes = page.locator("#code-boxes input");
  check((await boxes.first().inputValue()) === "", "the boxes are cleared");
  check((await boxes.first().getAttribute("aria-invalid")) === "true", "the boxes are marked invalid");
  check(await boxes.first().evaluate((input) => document.activeElement === input), "focus returns to the first box");

  // Submitting an incomplete code is refused by the page itself.
  await boxes.first().fill("1");
  await page.getByRole("button", { name: "Continue" }).click();
  check((await errorText(page)) === "Enter all 6 digits of the code.", "an incomplete code is explained");

  await boxes.first().fill("");
  await typeCode(page, code);
  await waitForView(page, "account");
  check((await errorText(page)) === "", "the error is gone once signed in");
  page.assertClean();
});
