// Where the page of a rule lives: docs/rules/<code>.md of the install
// directory, as a file: URI for a diagnostic's codeDescription. The bundle
// runs from dist/server.js (or dist/cli.js); the sources run from server/lsp/.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

function findRulesDir(): string | undefined {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'docs', 'rules');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

export class RuleDocs {
  private readonly cache = new Map<string, string | null>();

  constructor(readonly rulesDir: string | undefined = findRulesDir()) {}

  /** The file: URI of the rule's page, or undefined when the install has no page for it. */
  href(code: string): string | undefined {
    if (!this.rulesDir || !/^[a-z0-9][a-z0-9-]*$/.test(code)) return undefined;
    let href = this.cache.get(code);
    if (href === undefined) {
      const path = join(this.rulesDir, `${code}.md`);
      href = existsSync(path) ? pathToFileURL(path).href : null;
      this.cache.set(code, href);
    }
    return href ?? undefined;
  }
}
