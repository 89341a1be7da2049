import { connect } from 'node:net'

/** A response read off the wire. */
export interface RawResponse {
  status: number
  headers: Record<string, string | string[]>
  body: string
}

/**
 * Sends one request exactly as written (the request-target is not normalised by any client) and
 * reads the response until the server closes the connection.
 */
export function rawRequest(port: number, method: string, target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      const head = text.slice(0, split).split('\r\n')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0)
      const out: Record<string, string | string[]> = {}
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':')
        const name = line.slice(0, colon).trim().toLowerCase()
        const value = line.slice(colon + 1).trim()
        const prev = out[name]
        out[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value]
      }
      let body = text.slice(split + 4)
      if (String(out['transfer-encoding']).toLowerCase() === 'chunked') body = unchunk(body)
      resolve({ status, headers: out, body })
    })
    const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
    socket.end(`${lines.join('\r\n')}\r\n\r\n`)
  })
}

function unchunk(body: string): string {
  let out = ''
  let rest = body
  for (;;) {
    const eol = rest.indexOf('\r\n')
    const size = Number.parseInt(rest.slice(0, eol), 16)
    if (!size) return out
    out += rest.slice(eol + 2, eol + 2 + size)
    rest = rest.slice(eol + 4 + size)
  }
}

/** The `Set-Cookie` values of a fetch response. */
export function setCookies(res: Response): string[] {
  return res.headers.getSetCookie()
}

/** The `name=value` part of the cookie `name` among `Set-Cookie` values, for a `Cookie` header. */
export function cookiePair(setCookie: readonly string[], name: string): string | undefined {
  for (const c of setCookie) {
    const pair = c.split(';', 1)[0] as string
    if (pair.startsWith(`${name}=`)) return pair
  }
  return undefined
}
