// The otp-auth client: typed requests for every route (openapi-fetch on the types
// generated from /openapi.json into schema.d.ts), and a small layer for the flows a web
// client needs: send a code, verify it, keep the token pair, refresh once on a 401, log out.
import createClient, { type Client } from 'openapi-fetch'

import type { components, paths } from './schema.js'

export type { components, paths } from './schema.js'

/** The token pair and account every sign-in answers with. */
export type TokenResponse = components['schemas']['TokenResponse']
/** An account, as `GET /auth/me` answers it. */
export type UserView = components['schemas']['UserView']
/** An error answer (RFC 9457 problem document with a machine `code`). */
export type Problem = components['schemas']['Problem']

/** Where the client keeps the refresh token between page loads (the "device token"). */
export interface TokenStore {
  load(): string | null | Promise<string | null>
  save(refreshToken: string | null): void | Promise<void>
}

/** Keeps the refresh token in memory only (the default). */
export class MemoryTokenStore implements TokenStore {
  private token: string | null = null
  load(): string | null {
    return this.token
  }
  save(refreshToken: string | null): void {
    this.token = refreshToken
  }
}

/** A refused request: its HTTP status and problem document. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${status} ${problem.code}: ${problem.detail}`)
    this.name = 'ApiError'
  }
}

export interface OtpAuthOptions {
  /** The server, for example `https://auth.example.com`. */
  baseUrl: string
  /** Where the refresh token is kept (default: memory). */
  store?: TokenStore
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch
}

function fail(response: Response, error: unknown): never {
  throw new ApiError(response.status, error as Problem)
}

/** The flows of a signed-in client on top of the typed requests. */
export class OtpAuth {
  /** Typed requests for every route of the API. */
  readonly api: Client<paths>
  private readonly store: TokenStore
  private accessToken: string | null = null
  private refreshing: Promise<boolean> | null = null

  constructor(options: OtpAuthOptions) {
    this.api = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch })
    this.store = options.store ?? new MemoryTokenStore()
  }

  /** Whether an access token is held. */
  get signedIn(): boolean {
    return this.accessToken !== null
  }

  /** Mails a sign-in code to `email`; answers how long it is valid. */
  async sendCode(email: string): Promise<components['schemas']['CodeSent']> {
    const { data, error, response } = await this.api.POST('/auth/send-otp', { body: { email } })
    if (error !== undefined || data === undefined) fail(response, error)
    return data
  }

  /** Checks the code; on success keeps the tokens and answers the account. */
  async verifyCode(email: string, code: string): Promise<UserView> {
    const { data, error, response } = await this.api.POST('/auth/verify-otp', { body: { email, code } })
    if (error !== undefined || data === undefined) fail(response, error)
    await this.keep(data)
    return data.user
  }

  /** The signed-in account, refreshing the access token once if it was refused. */
  async me(): Promise<UserView> {
    const response = await this.authorized((token) =>
      this.api.GET('/auth/me', { headers: { Authorization: `Bearer ${token}` } }),
    )
    return response
  }

  /**
   * Exchanges the kept refresh token for a new pair. Answers false (and forgets the
   * tokens) when the server refuses it; concurrent calls share one request.
   */
  async refresh(): Promise<boolean> {
    this.refreshing ??= this.rotate().finally(() => {
      this.refreshing = null
    })
    return this.refreshing
  }

  /** Ends the session on the server and forgets the tokens. */
  async logout(): Promise<void> {
    const token = this.accessToken
    if (token !== null) {
      await this.api.POST('/auth/logout', { headers: { Authorization: `Bearer ${token}` } })
    }
    await this.forget()
  }

  /** The access token held, for calls to other services. */
  get token(): string | null {
    return this.accessToken
  }

  private async rotate(): Promise<boolean> {
    const refreshToken = await this.store.load()
    if (refreshToken === null) return false
    const { data } = await this.api.POST('/auth/refresh', { body: { refresh_token: refreshToken } })
    if (data === undefined) {
      await this.forget()
      return false
    }
    await this.keep(data)
    return true
  }

  private async authorized<T>(
    call: (token: string) => Promise<{ data?: T; error?: unknown; response: Response }>,
  ): Promise<T> {
    if (this.accessToken === null && !(await this.refresh())) {
      throw new ApiError(401, { code: 'token_invalid', detail: 'not signed in' } as Problem)
    }
    let result = await call(this.accessToken as string)
    if (result.response.status === 401 && (await this.refresh())) {
      result = await call(this.accessToken as string)
    }
    if (result.error !== undefined || result.data === undefined) fail(result.response, result.error)
    return result.data
  }

  private async keep(tokens: TokenResponse): Promise<void> {
    this.accessToken = tokens.access_token
    await this.store.save(tokens.refresh_token)
  }

  private async forget(): Promise<void> {
    this.accessToken = null
    await this.store.save(null)
  }
}
