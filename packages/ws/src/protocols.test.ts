import { PROTOCOL_BEARER_PREFIX } from '@gatehouse/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { handleProtocols } from './index.js'

const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl'

describe('handleProtocols', () => {
  it('selects the gatehouse marker when it is the only other offer', () => {
    expect(handleProtocols(new Set(['gatehouse', `gatehouse.bearer.${token}`]))).toBe('gatehouse')
  })

  it('never selects the bearer protocol, even when it is offered first', () => {
    expect(handleProtocols(new Set([`gatehouse.bearer.${token}`, 'gatehouse']))).toBe('gatehouse')
  })

  it('prefers the first application protocol over the marker, wherever the marker sits', () => {
    expect(handleProtocols(new Set(['gatehouse', `gatehouse.bearer.${token}`, 'chat.v2', 'chat.v1']))).toBe('chat.v2')
    expect(handleProtocols(new Set([`gatehouse.bearer.${token}`, 'graphql-ws', 'gatehouse']))).toBe('graphql-ws')
  })

  it('selects nothing when only a bearer protocol is offered', () => {
    expect(handleProtocols(new Set([`gatehouse.bearer.${token}`]))).toBe(false)
    expect(handleProtocols(new Set())).toBe(false)
  })

  it('never answers with a token and always answers with something offered (property)', () => {
    const name = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}$/)
    const offer = fc.oneof(name, name.map((t) => `${PROTOCOL_BEARER_PREFIX}${t}`), fc.constant('gatehouse'))
    fc.assert(
      fc.property(fc.uniqueArray(offer, { maxLength: 8 }), (offers) => {
        const selected = handleProtocols(new Set(offers))
        const apps = offers.filter((p) => p !== 'gatehouse' && !p.startsWith(PROTOCOL_BEARER_PREFIX))
        if (selected === false) return apps.length === 0 && !offers.includes('gatehouse')
        if (selected.startsWith(PROTOCOL_BEARER_PREFIX) || !offers.includes(selected)) return false
        return apps.length ? selected === apps[0] : selected === 'gatehouse'
      }),
    )
  })
})
