import { startDemo } from './server.js'

/** `pnpm demo`: starts the demo on PORT (default 3000) and prints what to try. */
async function main(): Promise<void> {
  const raw = process.env.PORT ?? '3000'
  const port = Number(raw)
  if (!/^\d+$/.test(raw) || port > 65_535) {
    console.error(`demo: PORT must be a port number (0-65535), got ${JSON.stringify(raw)}`)
    process.exit(2)
  }
  let demo: Awaited<ReturnType<typeof startDemo>>
  try {
    demo = await startDemo({ port, log: (line) => console.log(`  ${line}`) })
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'EADDRINUSE') console.error(`demo: port ${port} is in use; start it on another one: PORT=3001 pnpm demo`)
    else console.error('demo: could not start', error)
    process.exit(1)
  }
  console.log(`
gatehouse demo on ${demo.url}   (second origin: ${demo.secondOrigin})

  keys generated for this run (fingerprints only; the secrets never leave the process):
    jwt.secret      ${demo.fingerprints.jwt}
    session.secret  ${demo.fingerprints.session}

  Open ${demo.url} and try:
    - log in as alice / alice-demo (role user) or admin / admin-demo (roles admin, user),
      with a session cookie or with tokens (a 60 s access token in the readable cookie
      client_token, refreshed through the HttpOnly cookie demo_refresh);
    - the protected route logged out (401 credentials_missing, not a 403), the raw fetch that
      forgets the Authorization header, the admin-only write as alice (403 insufficient_role);
    - the call to the second origin, which never receives the token;
    - the chat, and the same chat opened from the second origin (closed 4403 origin_rejected).
  Every decision is logged below and on the page; click a line there for its full trace.
  Ctrl+C stops the demo.
`)
  const stop = () => {
    demo.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('demo: error while stopping', error)
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

void main()
