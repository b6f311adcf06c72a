// Re-lexes one line of a parsed file (with the dialect and comment state the parse
// recorded for it), to find the token under the cursor.
import { DIALECT_OF_CODE, ParsedDocument } from './model';
import { lexLine, Token } from './lexer';

export function lineTokens(doc: ParsedDocument, lines: string[], line: number, cpp: boolean): Token[] {
  const text = lines[line];
  if (text === undefined) return [];
  const dialect = DIALECT_OF_CODE[doc.lineDialect[line] ?? 0];
  const state = { inBlockComment: doc.lineInComment[line] === 1 };
  const pre = doc.language !== 'nasm' && /^\s*#\s*[a-z]/.test(text);
  if (doc.language === 'c-header' && !pre) return [];
  return lexLine(text, { dialect: pre ? 'att' : dialect, cpp: cpp || pre, noHashComment: pre }, state);
}

/** The token at a column (a cursor just after a token's last character still counts). */
export function tokenAt(tokens: Token[], col: number): Token | undefined {
  return tokens.find((t) => col >= t.start && col < t.end) ?? tokens.find((t) => col === t.end && t.kind !== 'punct');
}
