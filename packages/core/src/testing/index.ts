export { createTestIssuer } from './issuer.js'
export type { TestIssuer } from './issuer.js'
export { request } from './request.js'
