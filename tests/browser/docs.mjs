// /docs renders Swagger UI from the server alone (no request leaves it, no CSP
// violation), and /openapi.json validates as OpenAPI 3.1 against the official schema
// (shipped in @seriousme/openapi-schema-validator).
import { Validator } from "@seriousme/openapi-schema-validator";
import { BASE_URL, check, openPage, scenario, screenshot } from "./lib.mjs";

await scenario("docs", async (browser) => {
  const response = await fetch(`${BASE_URL}/openapi.json`);
  check(response.status === 200, `/openapi.json answered ${response.status}`);
  const document = await response.json();
  check(document.openapi === "3.1.0", `OpenAPI version ${document.openapi}`);
  const validator = new Validator();
  const result = await validator.validate(document);
  check(result.valid, `the document is not valid OpenAPI ${validator.version}:\n${JSON.stringify(result.errors, null, 2)}`);
  check(validator.version === "3.1", `validated as OpenAPI ${validator.version}`);

  const { page } = await openPage(browser, { viewport: { width: 1280, height: 900 } });
  const redirect = await page.goto(`${BASE_URL}/docs`);
  check(new URL(page.url()).pathname === "/docs/", `/docs leads to /docs/ (${page.url()})`);
  check(redirect.headers()["content-security-policy"]?.includes("script-src 'self'"), "Swagger UI is served with a CSP");
  await page.locator(".swagger-ui .info .title").waitFor({ timeout: 15000 });
  check((await page.locator(".swagger-ui .info .title").textContent()).includes("otp-auth"), "the title is shown");
  await page.locator(".opblock-tag-section").first().waitFor();
  for (const path of ["/auth/send-otp", "/auth/verify-otp", "/auth/login", "/auth/sessions/{id}", "/api/auth/me"]) {
    check(await page.locator(`.opblock-summary-path[data-path="${path}"]`).count() > 0, `${path} is listed`);
  }
  await page.locator('.opblock-summary-path[data-path="/auth/verify-otp"]').first().click();
  await page.getByText("otp_invalid", { exact: false }).first().waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, "api-docs", { fullPage: false });
  page.assertClean();
});
