import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A server listening on 127.0.0.1 on a free port. */
export interface Running {
  server: Server
  port: number
  /** `http://127.0.0.1:<port>` */
  url: string
  close(): Promise<void>
}

/** Starts `handler` (an Express app) on 127.0.0.1, port 0. */
export async function listen(handler: RequestListener): Promise<Running> {
  const server = createServer(handler)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

export { cookiePair, rawRequest, type RawResponse, setCookies } from '../../../test/support/raw-http.js'
