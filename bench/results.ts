// bench/RESULTS.md holds one table per benchmark, each keeping its history (one row per run).
// A table is found by its header row, so tables can be added below older ones without the
// older benchmarks appending into the wrong table.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { spawnSync } from 'node:child_process';

export interface Table {
  /** Written once above the table when it is first created (a heading and what the columns mean). */
  intro: string;
  /** The header row, e.g. `| date | machine | ... |`; identifies the table in the file. */
  header: string;
}

const FILE_TITLE = '# Benchmark results\n\n';

/** Adds `row` as the last row of `table` in `file`, creating the file or the table at the end as needed. */
export function appendRow(file: string, table: Table, row: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : FILE_TITLE;
  const lines = text.split('\n');
  const at = lines.indexOf(table.header);
  if (at < 0) {
    const columns = table.header.split('|').length - 2;
    const separator = `|${'---|'.repeat(columns)}`;
    // One blank line between the text so far and the new table.
    const body = text.replace(/\n*$/, '\n\n');
    writeFileSync(file, `${body}${table.intro.trimEnd()}\n\n${table.header}\n${separator}\n${row}\n`);
    return;
  }
  // Header, separator, then rows: insert after the last line that still belongs to the table.
  let end = at + 1;
  while (end + 1 < lines.length && lines[end + 1].startsWith('|')) end++;
  lines.splice(end + 1, 0, row);
  writeFileSync(file, lines.join('\n'));
}

let qemuVersion: string | undefined;

/** The "machine" column: host CPU, Node and QEMU versions. */
export function machineLine(): string {
  if (qemuVersion === undefined) {
    const r = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
    qemuVersion = r.status === 0 ? r.stdout.split('\n')[0] : 'QEMU absent';
  }
  return `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, Node ${process.version}, ${qemuVersion}`;
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}
