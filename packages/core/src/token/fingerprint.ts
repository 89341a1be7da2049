import { createHash, createPublicKey, type KeyObject } from 'node:crypto'

/**
 * A short, stable id for a key, so that two services can check they hold the same key without
 * sharing it: `sha256:` and the first 12 hex digits of a SHA-256 digest.
 *
 * - HMAC secrets: the digest of the raw secret bytes, reproducible with
 *   `printf %s "$JWT_SECRET" | sha256sum | cut -c1-12`. The 48 bits shown reveal nothing a
 *   token does not: anyone holding one HS256 token can already test guesses of the secret
 *   against its signature, and gatehouse refuses secrets shorter than the digest size.
 * - Public keys: the digest of the DER SubjectPublicKeyInfo, reproducible with
 *   `openssl pkey -pubin -in key.pem -outform DER | sha256sum | cut -c1-12`. It does not depend
 *   on the encoding the key was given in (PEM, PKCS#1, certificate, JWK).
 *
 * Private keys are fingerprinted by their public half.
 */
export function fingerprintKey(key: KeyObject): string {
  const material =
    key.type === 'secret'
      ? key.export()
      : (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' })
  return `sha256:${createHash('sha256').update(material).digest('hex').slice(0, 12)}`
}
