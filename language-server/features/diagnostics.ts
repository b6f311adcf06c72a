// Diagnostics: the hardware findings of the analysis (illegal ICR combinations, SIPI
// vectors, reserved bits, ...) and the assembler's own messages, as LSP diagnostics.
import { Diagnostic, DiagnosticSeverity } from 'vscode-languageserver';
import type { Severity } from '../hardware/apic-values';
import type { SourceFile } from '../workspace/store';
import type { AssemblerRun } from './assembler';
import type { Project } from './project';

const MAX_DIAGNOSTICS = 1000;

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information,
};

export function hardwareDiagnostics(project: Project, file: SourceFile): Diagnostic[] {
  if (file.language === 'c-header') return [];
  return project.analysis(file).findings.slice(0, MAX_DIAGNOSTICS).map(({ where, finding }) => ({
    range: { start: { line: where.line, character: where.start }, end: { line: where.line, character: where.end } },
    severity: SEVERITY[finding.severity],
    code: finding.code,
    source: 'hyperstep',
    message: finding.message,
  }));
}

export function assemblerDiagnostics(project: Project, file: SourceFile, run: AssemblerRun): Diagnostic[] {
  const lines = project.lines(file);
  return run.messages.slice(0, MAX_DIAGNOSTICS).map((m) => {
    const text = lines[m.line] ?? '';
    const start = text.length - text.trimStart().length;
    return {
      range: { start: { line: m.line, character: start }, end: { line: m.line, character: Math.max(start, text.trimEnd().length) } },
      severity: m.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
      source: run.tool,
      message: m.message,
    };
  });
}
