// Per-file derived data the features share: the constants a file sees and the hardware
// analysis, computed on demand and kept until the file or one of its includes changes.
import { analyze, Analysis } from '../analysis/analyze';
import { Constants } from '../workspace/constants';
import type { SourceFile, Workspace } from '../workspace/store';

interface Derived {
  closure: SourceFile[];
  constants: Constants;
  analysis?: Analysis;
}

export class Project {
  private readonly derived = new WeakMap<SourceFile, Derived>();
  private readonly lineCache = new WeakMap<SourceFile, string[]>();

  constructor(readonly ws: Workspace) {}

  private get(file: SourceFile): Derived {
    const closure = this.ws.includeClosure(file);
    const d = this.derived.get(file);
    if (d && d.closure.length === closure.length && d.closure.every((f, i) => f === closure[i])) return d;
    const fresh: Derived = { closure, constants: new Constants(this.ws, file) };
    this.derived.set(file, fresh);
    return fresh;
  }

  constants(file: SourceFile): Constants {
    return this.get(file).constants;
  }

  analysis(file: SourceFile): Analysis {
    const d = this.get(file);
    d.analysis ??= analyze(file.parsed, d.constants);
    return d.analysis;
  }

  lines(file: SourceFile): string[] {
    let l = this.lineCache.get(file);
    if (!l) { l = file.text.split(/\r?\n|\r/); this.lineCache.set(file, l); }
    return l;
  }
}
