// The files the server knows: documents open in the editor (their text is the truth) and
// files on disk reached through includes or the workspace scan (parsed on first use and
// re-parsed when their modification time changes). Files are keyed by file-system path;
// an open document keeps the URI its client gave, which is the one we answer with.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Language, languageOf, sniffLanguage, usesCpp, GAS_EXTENSIONS, NASM_EXTENSIONS } from '../documents/dialect';
import type { Include, ParsedDocument } from '../documents/model';
import { parseDocument } from '../documents/parser';

export interface SourceFile {
  /** File-system path, or the URI itself for documents that have none (untitled:). */
  key: string;
  uri: string;
  text: string;
  language: Language;
  parsed: ParsedDocument;
  /** True for an editor document. */
  open: boolean;
}

/** Files larger than this are not read from disk (an image or a generated listing, not source). */
export const MAX_DISK_FILE = 8 * 1024 * 1024;
const MAX_SCAN_FILES = 5000;
const SKIP_DIRS = new Set(['node_modules', '.git', 'out', 'dist', '.vscode-test', '.hg', '.svn']);

export function keyOfUri(uri: string): string {
  if (!uri.startsWith('file:')) return uri;
  try {
    return resolve(fileURLToPath(uri));
  } catch {
    return uri;
  }
}

export class Workspace {
  roots: string[] = [];
  /** Extra directories for #include / .include / %include (like -I), absolute or relative to the first root. */
  includePaths: string[] = [];
  private readonly openDocs = new Map<string, SourceFile>();
  private readonly disk = new Map<string, { mtimeMs: number; size: number; file: SourceFile }>();
  private scanned: { at: number; files: string[] } | undefined;

  openDocument(uri: string, text: string, languageId?: string): SourceFile {
    const key = keyOfUri(uri);
    // `.inc` serves both assemblers: what the text looks like beats the editor's guess.
    const language = ambiguous(key) ? sniffLanguage(text) : languageOf(key, languageId);
    const file: SourceFile = { key, uri, text, language, parsed: parseDocument(text, language, usesCpp(key) || language === 'c-header'), open: true };
    this.openDocs.set(key, file);
    return file;
  }

  closeDocument(uri: string): void {
    this.openDocs.delete(keyOfUri(uri));
  }

  /**
   * An open document, or a file read from disk; undefined if neither exists. `hint` is the
   * language of the file that includes it (a `.inc` is GNU as after `.include`, NASM after `%include`).
   */
  get(keyOrUri: string, hint?: Language): SourceFile | undefined {
    const key = keyOrUri.includes(':') && !isAbsolute(keyOrUri) ? keyOfUri(keyOrUri) : keyOrUri;
    const open = this.openDocs.get(key);
    if (open) return hint && ambiguous(key) && open.language !== hint ? this.asLanguage(open, hint) : open;
    if (!isAbsolute(key)) return undefined;
    let st;
    try {
      st = statSync(key);
    } catch {
      return undefined;
    }
    if (!st.isFile() || st.size > MAX_DISK_FILE) return undefined;
    const cached = this.disk.get(key);
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size && (!hint || !ambiguous(key) || cached.file.language === hint)) return cached.file;
    let text: string;
    try {
      text = readFileSync(key, 'utf8');
    } catch {
      return undefined;
    }
    const language = ambiguous(key) ? hint ?? sniffLanguage(text) : languageOf(key);
    const file: SourceFile = { key, uri: pathToFileURL(key).href, text, language, parsed: parseDocument(text, language, usesCpp(key) || language === 'c-header'), open: false };
    this.disk.set(key, { mtimeMs: st.mtimeMs, size: st.size, file });
    return file;
  }

  private readonly variants = new WeakMap<SourceFile, SourceFile>();

  /** An open include file parsed as the assembler that includes it reads it. */
  private asLanguage(file: SourceFile, language: Language): SourceFile {
    const v = this.variants.get(file);
    if (v && v.language === language) return v;
    const variant: SourceFile = { ...file, language, parsed: parseDocument(file.text, language, false) };
    this.variants.set(file, variant);
    return variant;
  }

  openFiles(): SourceFile[] {
    return [...this.openDocs.values()];
  }

  /**
   * The file an include names: next to the including file, then in the include paths and
   * the workspace roots, then (as a last resort, since we do not know the build's -I
   * flags) the unique workspace file with that name closest to the includer.
   */
  resolveInclude(from: SourceFile, inc: Include): SourceFile | undefined {
    const dirs: string[] = [];
    if (isAbsolute(from.key)) dirs.push(dirname(from.key));
    const base = this.roots[0];
    for (const p of this.includePaths) dirs.push(isAbsolute(p) ? p : base ? join(base, p) : p);
    dirs.push(...this.roots);
    const hint: Language = inc.how === '%include' ? 'nasm' : 'gas';
    if (isAbsolute(inc.path)) return this.get(inc.path, hint);
    for (const d of dirs) {
      const f = this.get(resolve(d, inc.path), hint);
      if (f) return f;
    }
    if (inc.system) return undefined;
    const name = basename(inc.path);
    const candidates = this.workspaceFiles(true).filter((p) => basename(p) === name && p.endsWith(inc.path.replace(/\\/g, '/')));
    if (candidates.length === 0) return undefined;
    const near = (p: string) => commonPrefix(p, from.key);
    candidates.sort((a, b) => near(b) - near(a));
    return this.get(candidates[0], hint);
  }

  /** The file and everything it includes, transitively (each file once, bounded). */
  includeClosure(file: SourceFile, limit = 200): SourceFile[] {
    const seen = new Set<string>([file.key]);
    const out: SourceFile[] = [file];
    for (let k = 0; k < out.length && out.length < limit; k++) {
      for (const inc of out[k].parsed.includes) {
        const f = this.resolveInclude(out[k], inc);
        if (f && !seen.has(f.key)) {
          seen.add(f.key);
          out.push(f);
        }
      }
    }
    return out;
  }

  /**
   * Paths of the assembly files under the workspace roots (and headers, with `headers`),
   * from a scan kept for a few seconds.
   */
  workspaceFiles(headers = false): string[] {
    const now = Date.now();
    if (!this.scanned || now - this.scanned.at > 5000) this.scanned = { at: now, files: scan(this.roots) };
    return headers ? this.scanned.files : this.scanned.files.filter((p) => !/\.(h|hpp)$/i.test(p));
  }

  /** Every source file of the workspace plus open documents, parsed. */
  allFiles(): SourceFile[] {
    const out = new Map<string, SourceFile>();
    for (const f of this.openDocs.values()) out.set(f.key, f);
    for (const p of this.workspaceFiles()) {
      if (out.has(p)) continue;
      const f = this.get(p);
      if (f) out.set(p, f);
    }
    // Headers count when an assembly file includes them.
    for (const f of [...out.values()]) for (const g of this.includeClosure(f, 50)) if (!out.has(g.key)) out.set(g.key, g);
    return [...out.values()];
  }
}

/** Extensions both assemblers use for includes. */
function ambiguous(path: string): boolean {
  return /\.(inc|mac)$/i.test(path);
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

const SOURCE = new RegExp(`(${[...GAS_EXTENSIONS, ...NASM_EXTENSIONS, '.h'].map((e) => e.replace('.', '\\.')).join('|')})$`);

function scan(roots: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (out.length >= MAX_SCAN_FILES || depth > 12) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.length >= MAX_SCAN_FILES) return;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(join(dir, e.name), depth + 1);
      } else if (e.isFile() && SOURCE.test(e.name)) {
        out.push(join(dir, e.name));
      }
    }
  };
  for (const r of roots) walk(r, 0);
  return out;
}
