import { type ModelPath, modelPathName } from '../../validate.js';
import type { Where } from '../errors.js';

/** Where each value of the produced model came from, keyed by modelPathName(path). */
export class SourceMap {
  readonly record: Record<string, Where> = {};

  set(path: ModelPath, where: Where): void {
    this.record[modelPathName(path)] = { file: where.file, line: where.line };
  }
}

/** The source of a path, or of the nearest enclosing path that has one. */
export function nearestSource(record: Readonly<Record<string, Where>>, path: ModelPath): Where | undefined {
  for (let n = path.length; n > 0; n--) {
    const found = record[modelPathName(path.slice(0, n))];
    if (found !== undefined) return found;
  }
  return undefined;
}
