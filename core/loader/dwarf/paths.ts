// Source paths: joining them as DWARF records them, matching a path the user gave (an
// absolute path in an editor) against the recorded ones, and finding a recorded relative
// path on disk. Recorded paths keep forward slashes; the user's may use either.
import { existsSync } from 'node:fs';
import * as nodePath from 'node:path';

export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(p);
}

/** `name` under `dir`, unless `name` is absolute or `dir` is empty (DWARF 5, 6.2.4 item 20). */
export function joinPath(dir: string, name: string): string {
  if (dir === '' || isAbsolutePath(name)) return name;
  if (name === '') return dir;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** Forward slashes, no empty or "." segments, ".." folded where it can be. */
export function normalizePath(p: string): string {
  const abs = isAbsolutePath(p);
  const parts: string[] = [];
  for (const seg of p.replace(/\\/g, '/').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(seg);
  }
  const body = parts.join('/');
  return abs && !/^[A-Za-z]:$/.test(parts[0] ?? '') ? '/' + body : body;
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

/**
 * The recorded paths that name the file `query`: the same path; else those that are a
 * whole-segment suffix of it (an absolute editor path ending in a recorded relative one)
 * or that it is a suffix of; else the one recorded path with the same base name, when only
 * one has it.
 */
export function matchRecordedPaths(query: string, recorded: Iterable<string>): string[] {
  const q = normalizePath(query);
  const all = [...new Set(recorded)];
  const norm = all.map(normalizePath);
  const exact = all.filter((_, i) => norm[i] === q);
  if (exact.length > 0) return exact;
  const suffix = all.filter((_, i) => {
    const r = norm[i];
    // A bare name is no suffix: it falls to the base-name rule below, which wants it unique.
    return r !== '' && (q.endsWith('/' + r) || (!isAbsolutePath(q) && q.includes('/') && r.endsWith('/' + q)));
  });
  if (suffix.length > 0) return suffix;
  const base = basename(q);
  const sameBase = new Set(norm.filter((r) => basename(r) === base));
  if (sameBase.size !== 1) return [];
  return all.filter((_, i) => basename(norm[i]) === base);
}

/**
 * An absolute path for a recorded source path: itself when absolute and present, else the
 * first `searchDir`, or parent of one, under which it exists. The guests record paths from
 * the repository root, so an image's own directory and its parents find them.
 */
export function resolveSource(
  recorded: string,
  searchDirs: readonly string[],
  exists: (path: string) => boolean = existsSync,
): string | null {
  if (isAbsolutePath(recorded)) return exists(recorded) ? recorded : null;
  for (const dir of searchDirs) {
    let d = nodePath.resolve(dir);
    // A path has finitely many parents; the cap only guards against a strange resolver.
    for (let i = 0; i < 256; i++) {
      const candidate = nodePath.join(d, recorded);
      if (exists(candidate)) return candidate;
      const parent = nodePath.dirname(d);
      if (parent === d) break;
      d = parent;
    }
  }
  return null;
}
