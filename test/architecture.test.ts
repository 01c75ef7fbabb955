// ARCHITECTURE.md's code map and invariants, checked against the code's imports: every folder of
// the map imports only what its "May import" line names, the map has no cycle, the pure folders
// import no I/O, and every folder with code is on the map. A second test runs the same check on a
// small tree that breaks each invariant, so this test is known to fail when it should.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
/** The folders whose code the map covers; tests, scripts and benchmarks stand outside it. */
const MAPPED_TOPS = ['server', 'protocol', 'extension', 'webview'];
/** Folders that must do no I/O: they may import no Node module and no package. */
const PURE = new Set(['server/abi', 'server/model', 'server/scenario']);
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

interface FolderRule {
  folder: string;
  /** Project folders (no trailing slash) and files such as `package.json`. */
  paths: Set<string>;
  packages: Set<string>;
}

/** The "### `folder/`" sections and their "*May import:*" lines. */
export function readCodeMap(markdown: string): FolderRule[] {
  const rules: FolderRule[] = [];
  const sections = markdown.split(/^### /m).slice(1);
  for (const section of sections) {
    const heading = /^`([^`]+)\/`/.exec(section);
    if (!heading) continue;
    const paragraph = section.split(/\n\s*\n/).find((p) => p.startsWith('*May import:*'));
    assert.ok(paragraph, `ARCHITECTURE.md: the section of ${heading[1]}/ has no "*May import:*" line`);
    const text = paragraph.slice('*May import:*'.length);
    const [projectPart, packagePart = ''] = text.split(/packages/);
    const ticked = (s: string) => [...s.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\/$/, ''));
    rules.push({ folder: heading[1]!, paths: new Set(ticked(projectPart!)), packages: new Set(ticked(packagePart)) });
  }
  return rules;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs|js)$/.test(name) ? [path] : [];
  });
}

/** Every module specifier a file names: static imports and re-exports, import(), require(). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const p of patterns) for (const m of source.matchAll(p)) found.push(m[1]!);
  return found;
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The violations of the code map in the tree at `root`, one sentence each. */
export function checkImports(root: string, rules: FolderRule[]): string[] {
  const problems: string[] = [];
  const byLength = [...rules].sort((a, b) => b.folder.length - a.folder.length);
  const folderOf = (rel: string) => byLength.find((r) => rel === r.folder || rel.startsWith(`${r.folder}/`));

  for (const top of MAPPED_TOPS) {
    let files: string[];
    try {
      files = sourceFiles(join(root, top));
    } catch {
      continue;
    }
    for (const file of files) {
      const rel = relative(root, file);
      const rule = folderOf(rel);
      if (!rule) {
        problems.push(`${rel}: its folder is not on ARCHITECTURE.md's code map`);
        continue;
      }
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) {
          const target = relative(root, resolve(dirname(file), spec));
          if (target === rule.folder || target.startsWith(`${rule.folder}/`)) continue;
          const allowed = [...rule.paths].some((p) => target === p || target.startsWith(`${p}/`) || target === p.replace(/\.\w+$/, ''));
          if (!allowed) problems.push(`${rel} imports ${target} (${rule.folder}/ may import: ${[...rule.paths].join(', ') || 'nothing'})`);
        } else if (BUILTINS.has(spec)) {
          if (PURE.has(rule.folder)) problems.push(`${rel} imports ${spec}: ${rule.folder}/ does no I/O`);
        } else if (!rule.packages.has(packageName(spec))) {
          problems.push(`${rel} imports the package ${packageName(spec)}, not on ${rule.folder}/'s "May import" line`);
        }
      }
    }
  }
  return problems;
}

/** A cycle in the map's "May import" relation, as a path, or null. */
export function findCycle(rules: FolderRule[]): string[] | null {
  const edges = new Map(rules.map((r) => [r.folder, [...r.paths].filter((p) => rules.some((q) => q.folder === p))]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === 'done') return null;
    if (state.get(f) === 'visiting') return [...stack.slice(stack.indexOf(f)), f];
    state.set(f, 'visiting');
    stack.push(f);
    for (const g of edges.get(f) ?? []) {
      const cycle = visit(g);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(f, 'done');
    return null;
  };
  for (const r of rules) {
    const cycle = visit(r.folder);
    if (cycle) return cycle;
  }
  return null;
}

const MAP = readCodeMap(readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8'));

test('ARCHITECTURE.md maps the folders the extension, the webviews and the server consist of', () => {
  const names = MAP.map((r) => r.folder);
  for (const folder of ['server/abi', 'server/model', 'protocol', 'extension', 'webview']) assert.ok(names.includes(folder), folder);
  for (const r of MAP) assert.ok(statSync(join(ROOT, r.folder)).isDirectory(), `${r.folder}/ is on the map but not in the tree`);
  assert.deepEqual([...MAP.find((r) => r.folder === 'extension')!.paths], ['protocol'], 'the extension imports only protocol/');
  assert.deepEqual([...MAP.find((r) => r.folder === 'webview')!.paths], ['protocol'], 'webviews import only protocol/ (and webview/)');
  for (const f of PURE) {
    const rule = MAP.find((r) => r.folder === f)!;
    assert.equal(rule.packages.size, 0, `${f}/ does no I/O: no package`);
  }
});

test("the code's imports keep to ARCHITECTURE.md's code map", () => {
  assert.deepEqual(checkImports(ROOT, MAP), []);
});

test("ARCHITECTURE.md's dependencies point one way (no cycle)", () => {
  assert.equal(findCycle(MAP), null);
});

test('the check finds each kind of violation in a tree that breaks them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-arch-'));
  try {
    const write = (rel: string, text: string) => {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    };
    write('server/model/rule.ts', "import { readFileSync } from 'node:fs';\nimport { x } from '../lsp/server';\n");
    write('extension/tree.ts', "import type { Report } from '../server/inspect/types';\nimport * as vscode from 'vscode';\n");
    write('webview/view.ts', "export { a } from '../server/scenario/result';\nconst m = await import('left-pad');\n");
    write('server/lsp/server.ts', "import { connection } from 'vscode-languageserver';\n");
    write('server/stray/thing.ts', 'export const x = 1;\n');
    const problems = checkImports(dir, MAP);
    const expect = [
      /server\/model\/rule\.ts imports node:fs/,
      /server\/model\/rule\.ts imports server\/lsp\/server/,
      /extension\/tree\.ts imports server\/inspect\/types/,
      /webview\/view\.ts imports server\/scenario\/result/,
      /webview\/view\.ts imports the package left-pad/,
      /server\/stray\/thing\.ts: its folder is not on/,
    ];
    for (const e of expect) assert.ok(problems.some((p) => e.test(p)), `expected a problem matching ${e}: ${problems.join('; ')}`);
    assert.equal(problems.length, expect.length, problems.join('\n'));
    assert.ok(findCycle([...MAP, { folder: 'server/abi', paths: new Set(['server/model']), packages: new Set() }]), 'server/abi -> server/model -> server/abi is a cycle');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
