import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The guides show code that the suite runs; these tests keep the copies in the docs identical to
// the files, so the docs cannot drift from what is tested.
const root = fileURLToPath(new URL('../../../', import.meta.url))
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8')

/** The bodies of the fenced code blocks of a markdown text, with the given info string. */
function codeBlocks(markdown: string, lang: string): string[] {
  const blocks: string[] = []
  const fence = /^```(\S*)\n([\s\S]*?)^```$/gm
  for (let m = fence.exec(markdown); m !== null; m = fence.exec(markdown)) if (m[1] === lang) blocks.push(m[2] as string)
  return blocks
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces turned into hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

function anchors(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```$/gm, '')
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string)))
}

/** Relative links of a markdown text (outside code blocks): `[text](target)`. */
function links(markdown: string): string[] {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```$/gm, '')
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string).filter((t) => !/^[a-z]+:/.test(t))
}

describe('docs/getting-started.md', () => {
  const doc = read('docs/getting-started.md')
  const blocks = codeBlocks(doc, 'ts')

  it.each(['express', 'fastify', 'ws', 'client'])('shows snippets/%s.ts exactly as the file the tests run', (name) => {
    expect(blocks).toContain(read(`examples/demo/snippets/${name}.ts`))
  })
})

describe('docs/testing.md', () => {
  it('shows the complete policy test exactly as it runs', () => {
    expect(codeBlocks(read('docs/testing.md'), 'ts')).toContain(read('examples/demo/test/policy.test.ts'))
  })
})

describe('docs/README.md', () => {
  const index = read('docs/README.md')

  it('lists every guide in docs/, each on its own line with a description', () => {
    const docs = readdirSync(`${root}docs`).filter((f) => f.endsWith('.md') && f !== 'README.md')
    expect(docs.length).toBeGreaterThan(10)
    for (const doc of docs) expect(index).toMatch(new RegExp(`^- \\[${doc.replace('.', '\\.')}\\]\\(${doc.replace('.', '\\.')}\\): \\S.{20,}$`, 'm'))
  })

  it('lists the getting-started guide and the guides this project promises', () => {
    const listed = links(index)
    for (const doc of ['getting-started.md', 'errors.md', 'paths.md', 'origins.md', 'tokens.md', 'sessions.md', 'express.md', 'fastify.md', 'websockets.md', 'client.md', 'cli.md', 'migrating.md', 'security.md', 'benchmarks.md', 'testing.md', 'troubleshooting.md']) {
      expect(listed).toContain(doc)
    }
  })
})

describe.each(['getting-started.md', 'troubleshooting.md', 'testing.md'])('links in docs/%s', (name) => {
  const doc = read(`docs/${name}`)

  it('point to files that exist, and to headings that exist', () => {
    const targets = links(doc)
    expect(targets.length).toBeGreaterThan(0)
    for (const target of targets) {
      const [file, anchor] = target.split('#') as [string, string | undefined]
      const path = file === '' ? `docs/${name}` : `docs/${file}`
      expect(existsSync(`${root}${path}`), `${target} in docs/${name}`).toBe(true)
      if (anchor !== undefined) expect([...anchors(read(path))], `${target} in docs/${name}`).toContain(anchor)
    }
  })
})

describe('docs/troubleshooting.md', () => {
  const doc = read('docs/troubleshooting.md')

  it('has an entry for every deny code, linked to the catalogue', async () => {
    const { DENY_CODES } = await import('@gatehouse/core')
    for (const code of DENY_CODES) expect(doc).toContain(`| [\`${code}\`](errors.md#${code}) |`)
  })
})
