// Phone width (360 x 740, touch): every view fits without sideways scrolling, the six
// code boxes are on screen and big enough to tap, and a whole sign-in works.
import {
  BASE_URL, Mailbox, check, openPage, scenario, screenshot, typeCode, uniqueEmail, waitForView,
} from "./lib.mjs";

async function fitsTheScreen(page, what) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  check(scroll <= width, `${what}: the page is ${scroll}px wide on a ${width}px screen`);
}

await scenario("phone", async (browser) => {
  for (const width of [320, 360]) {
    const { page, context } = await openPage(browser, {
      viewport: { width, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      userAgent: "Mozilla/5.0 (Linux; Android 15; Pixel 9) Chrome/156.0 Mobile Safari/537.36",
    });
    const mailbox = new Mailbox();
    const email = width === 360 ? "pat@example.com" : uniqueEmail(`phone${width}`);

    await page.goto(`${BASE_URL}/`);
    await waitForView(page, "email");
    await fitsTheScreen(page, `${width}px sign-in`);
    if (width === 360) await screenshot(page, "phone-sign-in");

    for (const view of ["login", "register"]) {
      await page.locator(`[data-go="${view}"]`).first().click();
      await waitForView(page, view);
      await fitsTheScreen(page, `${width}px ${view}`);
      await page.goto(`${BASE_URL}/`);
    }

    await page.locator("#email-address").fill(email);
    await page.getByRole("button", { name: "Email me a code" }).tap();
    await waitForView(page, "code");
    await fitsTheScreen(page, `${width}px code entry`);
    const boxes = page.locator("#code-boxes input");
    for (let i = 0; i < 6; i += 1) {
      const box = await boxes.nth(i).boundingBox();
      check(box && box.x >= 0 && box.x + box.width <= width, `${width}px: box ${i + 1} is on screen`);
      check(box.width >= 32 && box.height >= 44, `${width}px: box ${i + 1} is big enough to tap (${box.width}x${box.height})`);
    }
    check((await boxes.first().getAttribute("inputmode")) === "numeric", "the phone shows a number pad");
    check((await boxes.first().getAttribute("autocomplete")) === "one-time-code", "the phone can offer the code from the mail");
    if (width === 360) await screenshot(page, "phone-code");

    await typeCode(page, await mailbox.nextCode(email));
    await waitForView(page, "account");
    await fitsTheScreen(page, `${width}px signed in`);
    if (width === 360) await screenshot(page, "phone-signed-in");
    page.assertClean();
    await context.close();
  }
});
