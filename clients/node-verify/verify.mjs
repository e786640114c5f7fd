// Verifies an otp-auth access token in Node.js with the npm `paseto` package (v4.public),
// using the keys the auth server publishes at /auth/keys.
//
//   node verify.mjs https://auth.example.com "$ACCESS_TOKEN"
//
// Prints the verified claims as JSON and exits 0, or prints why the token is refused and
// exits 1. docs/verifying-tokens.md walks through it; crates/server/tests/other_services.rs
// runs it against a real otp-server.
import { InspectFooter, PublicProtocol } from 'paseto'
import { ImportPublicKeyFactory, VerifyFactory } from 'paseto/v4/public'

const v4 = new PublicProtocol(ImportPublicKeyFactory, VerifyFactory)

/** The server's verifying keys by key id, with the issuer and audience its tokens carry. */
export async function fetchKeys(baseUrl) {
  const response = await fetch(new URL('/auth/keys', baseUrl))
  if (!response.ok) throw new Error(`GET /auth/keys answered ${response.status}`)
  const document = await response.json()
  const keys = new Map()
  for (const key of document.keys) {
    keys.set(key.kid, await v4.ImportPublicKey(key.paserk))
  }
  return { issuer: document.issuer, audience: document.audience, keys }
}

/** The claims of `token` if it verifies with one of `published`'s keys; throws otherwise. */
export async function verify(token, published) {
  // The footer names the signing key; it is only trusted once the signature checks out.
  const footer = JSON.parse(new TextDecoder().decode(InspectFooter(token)))
  const key = published.keys.get(footer.kid)
  if (!key) throw new Error(`unknown key id ${footer.kid}: fetch /auth/keys again`)
  const { claims } = await v4.Verify(key, token, {
    issuer: published.issuer,
    audience: published.audience,
    clockTolerance: 5,
    requiredClaims: ['sub', 'sid', 'jti', 'exp', 'iat'],
  })
  return claims
}

const [baseUrl, token] = process.argv.slice(2)
if (baseUrl && token) {
  try {
    const claims = await verify(token, await fetchKeys(baseUrl))
    console.log(JSON.stringify(claims))
  } catch (error) {
    console.log(JSON.stringify({ refused: `${error.name}: ${error.message}` }))
    process.exitCode = 1
  }
}
