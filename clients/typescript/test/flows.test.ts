// The client against a real otp-server, started by crates/server/tests/other_services.rs
// with OTP_BASE_URL and OTP_MAIL_DIR (the folder it writes each message to).
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

import { ApiError, MemoryTokenStore, OtpAuth } from '../src/index.js'

const baseUrl = process.env.OTP_BASE_URL as string
const mailDir = process.env.OTP_MAIL_DIR as string
assert.ok(baseUrl && mailDir, 'set OTP_BASE_URL and OTP_MAIL_DIR')

/** The code in the newest message to `email`, waiting for it to be written. */
async function codeFor(email: string): Promise<string> {
  for (let tries = 0; tries < 100; tries += 1) {
    const names = readdirSync(mailDir, { withFileTypes: true }).filter((entry) => entry.name.endsWith('.eml'))
    const texts = names
      .map((entry) => readFileSync(join(mailDir, entry.name), 'utf8'))
      .filter((text) => text.includes(email))
    const code = texts.at(-1)?.split(/\r?\n/).map((line) => line.trim()).find((line) => /^\d{6}$/.test(line))
    if (code) return code
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`no code mailed to ${email}`)
}

async function signedIn(email: string, store = new MemoryTokenStore()): Promise<OtpAuth> {
  const auth = new OtpAuth({ baseUrl, store })
  const sent = await auth.sendCode(email)
  assert.ok(sent.expires_in > 0)
  const user = await auth.verifyCode(email, await codeFor(email))
  assert.equal(user.email, email)
  return auth
}

test('passwordless sign-in, then me', async () => {
  const email = `ts-${Date.now()}@example.com`
  const auth = await signedIn(email)
  assert.ok(auth.signedIn && auth.token?.startsWith('v4.public.'))
  assert.equal((await auth.me()).email, email)
})

test('a wrong code is an ApiError with the problem code', async () => {
  const email = `ts-wrong-${Date.now()}@example.com`
  const auth = new OtpAuth({ baseUrl })
  await auth.sendCode(email)
  const code = await codeFor(email)
  const wrong = code === '000000' ? '111111' : '000000'
  await assert.rejects(auth.verifyCode(email, wrong), (error: unknown) => {
    assert.ok(error instanceof ApiError)
    assert.equal(error.status, 400)
    assert.equal(error.problem.code, 'otp_invalid')
    return true
  })
})

test('a reloaded client signs in again from the kept device token, which rotates', async () => {
  const email = `ts-device-${Date.now()}@example.com`
  const store = new MemoryTokenStore()
  const first = await signedIn(email, store)
  const firstRefresh = store.load()
  // A page reload: a new client with the same store refreshes on its first call.
  const reloaded = new OtpAuth({ baseUrl, store })
  assert.equal((await reloaded.me()).email, email)
  assert.notEqual(store.load(), firstRefresh, 'the refresh token was rotated')
  // The first client's access token still works; its refresh token is spent.
  assert.equal((await first.me()).email, email)
})

test('logout ends the session: the access token and the device token stop working', async () => {
  const email = `ts-logout-${Date.now()}@example.com`
  const store = new MemoryTokenStore()
  const auth = await signedIn(email, store)
  const token = auth.token as string
  const device = store.load()
  await auth.logout()
  assert.equal(auth.signedIn, false)
  assert.equal(store.load(), null)
  const me = await auth.api.GET('/auth/me', { headers: { Authorization: `Bearer ${token}` } })
  assert.equal(me.response.status, 401)
  assert.equal(me.error?.code, 'token_invalid')
  const refreshed = await auth.api.POST('/auth/refresh', { body: { refresh_token: device as string } })
  assert.equal(refreshed.response.status, 401)
  await assert.rejects(auth.me(), ApiError)
})
