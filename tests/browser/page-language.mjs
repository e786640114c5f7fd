// The page in the language asked for: French by the browser's Accept-Language, German
// by ?lang=de; APP_NAME in the title and header.
import { BASE_URL, check, openPage, scenario, waitForView } from "./lib.mjs";

await scenario("page-language", async (browser) => {
  const french = await openPage(browser, { locale: "fr-FR" });
  await french.page.goto(`${BASE_URL}/`);
  await waitForView(french.page, "email");
  check((await french.page.locator("html").getAttribute("lang")) === "fr", "the page is in French");
  check((await french.page.title()) === "Connexion · Acme ID", `French title with APP_NAME: ${await french.page.title()}`);
  check((await french.page.locator(".brand").textContent()) === "Acme ID", "APP_NAME in the header");
  check(
    (await french.page.getByRole("button", { name: "M'envoyer un code" }).count()) === 1,
    "the button speaks French",
  );
  french.page.assertClean();

  const german = await openPage(browser, { locale: "fr-FR" });
  await german.page.goto(`${BASE_URL}/?lang=de`);
  await waitForView(german.page, "email");
  check((await german.page.locator("#email-title").textContent()) === "Anmelden", "?lang=de wins over the browser");
  german.page.assertClean();
});
