import type { KeyInfo } from '../token/token-verifier.js'
import { EXIT, type FingerprintArgs } from './args.js'
import { clean, type Io } from './format.js'
import { openAuth } from './load-config.js'

/**
 * One key as a line, fingerprint first so outputs from two services can be compared with `diff`
 * or `cut -d' ' -f1`: `sha256:3f9a0c1b2d4e kind=secret alg=HS256,HS384,HS512 kid=- source=jwt.secret`.
 */
export function keyLine(key: KeyInfo): string {
  const kid = key.kid === undefined ? '-' : clean(String(key.kid))
  return `${key.fingerprint} kind=${clean(String(key.kind))} alg=${key.algorithms.map((a) => clean(String(a))).join(',')} kid=${kid} source=${clean(String(key.source))}`
}

/** `gatehouse fingerprint`: the fingerprint of every configured key, never the key itself. */
export async function runFingerprint(args: FingerprintArgs, io: Io, cwd: string): Promise<number> {
  const { auth, options } = await openAuth(args.config, cwd)
  let keys: KeyInfo[]
  try {
    keys = auth.keys()
  } finally {
    await auth.close()
  }
  if (args.json) {
    io.out(JSON.stringify(keys, null, 2))
    return EXIT.allow
  }
  for (const key of keys) io.out(keyLine(key))
  // Remote keys are fetched on first use, and nothing here has used them yet.
  if (options.jwt?.jwksUrl !== undefined && !keys.some((k) => k.kind === 'jwks')) {
    io.err("gatehouse fingerprint: keys behind jwt.jwksUrl are fetched on first use and are not listed; run 'gatehouse explain' with a token to see them")
  } else if (keys.length === 0) {
    io.err('gatehouse fingerprint: no JWT keys are configured (jwt.secret, jwt.publicKey or jwt.jwksUrl)')
  }
  return EXIT.allow
}
