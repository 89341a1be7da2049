import { describe, expect, it } from 'vitest'
import { VerifiedCache } from './verified-cache.js'

const entry = (result: string, from = -Infinity, until = Infinity) => ({ result, from, until })

describe('VerifiedCache', () => {
  it('serves an entry inside its window only', () => {
    const cache = new VerifiedCache<string>(10)
    cache.set('t', entry('r', 1000, 2000))
    expect(cache.get('t', 999)).toBeUndefined()
    expect(cache.get('t', 1000)?.result).toBe('r')
    expect(cache.get('t', 1999)?.result).toBe('r')
    expect(cache.get('t', 2000)).toBeUndefined()
    // An expired entry is dropped, not kept to be served by a clock going backwards.
    expect(cache.size).toBe(0)
    expect(cache.get('t', 1500)).toBeUndefined()
  })

  it('keeps recently used entries and drops the oldest generation when full', () => {
    const cache = new VerifiedCache<string>(4)
    cache.set('a', entry('A'))
    cache.set('b', entry('B')) // the generation (a, b) is full and ages
    cache.set('c', entry('C'))
    expect(cache.get('a', 0)?.result).toBe('A') // a moves forward; (c, a) is full, so (b) is dropped
    expect(cache.get('b', 0)).toBeUndefined()
    expect(cache.get('a', 0)?.result).toBe('A')
    expect(cache.get('c', 0)?.result).toBe('C')
    expect(cache.size).toBeLessThanOrEqual(4)
  })

  it('holds at least the max / 2 most recently used tokens, and never more than max', () => {
    const cache = new VerifiedCache<number>(100)
    for (let i = 0; i < 1000; i++) {
      cache.set(`t${i}`, { result: i, from: -Infinity, until: Infinity })
      expect(cache.size).toBeLessThanOrEqual(100)
    }
    for (let i = 950; i < 1000; i++) expect(cache.get(`t${i}`, 0)?.result).toBe(i)
  })

  it('replaces an entry without evicting another', () => {
    const cache = new VerifiedCache<string>(10)
    cache.set('a', entry('A'))
    cache.set('b', entry('B'))
    cache.set('a', entry('A2'))
    expect(cache.size).toBe(2)
    expect(cache.get('a', 0)?.result).toBe('A2')
    expect(cache.get('b', 0)?.result).toBe('B')
  })

  it('never grows past max under churn', () => {
    const cache = new VerifiedCache<number>(100)
    for (let i = 0; i < 10_000; i++) cache.set(`t${i}`, entry2(i))
    expect(cache.size).toBeLessThanOrEqual(100)
    expect(cache.get('t9999', 0)?.result).toBe(9999)
    expect(cache.get('t0', 0)).toBeUndefined()
    function entry2(n: number) {
      return { result: n, from: -Infinity, until: Infinity }
    }
  })

  it('matches the whole token: another token with the same end is a miss and evicts nothing', () => {
    const cache = new VerifiedCache<string>(10)
    const tail = 'S'.repeat(43)
    const legit = `header.payload.${tail}`
    const forged = `header.PAYLOAD.${tail}`
    cache.set(legit, entry('legit'))
    expect(cache.get(forged, 0)).toBeUndefined()
    expect(cache.get(legit, 0)?.result).toBe('legit')
    // A fresh copy of the same token (as each request brings) hits.
    expect(cache.get(Buffer.from(legit).toString(), 0)?.result).toBe('legit')
  })

  it('clears', () => {
    const cache = new VerifiedCache<string>(2)
    cache.set('a', entry('A'))
    cache.clear()
    expect(cache.get('a', 0)).toBeUndefined()
  })
})
