import { createAuthFetch, fromCookie } from '@gatehouse/client'

// The server sets the access token in a cookie the page can read (client_token) and the refresh
// token in an HttpOnly cookie that only /auth/refresh receives.
export const readToken = fromCookie('client_token')

// One function for every call the app makes: fetch's signature, the token attached to this
// page's origin only, one refresh for a burst of 401s, each refused request retried once.
export const api = createAuthFetch({
  token: readToken,
  refresh: async () => {
    const res = await api('/auth/refresh', { method: 'POST', auth: false })
    return res.ok ? (readToken() ?? null) : null
  },
})

export async function loadProfile(): Promise<{ id: string; roles: string[] }> {
  const res = await api('/api/me')
  if (!res.ok) throw new Error(`GET /api/me answered ${res.status}`)
  return (await res.json()) as { id: string; roles: string[] }
}

// The token travels in the WebSocket subprotocol (browsers cannot set headers on a WebSocket);
// a close with 4401 (token expired) triggers one refresh and a reconnect.
export function openChat() {
  return api.ws('/ws/chat')
}
