import type { Where } from './errors.js';

export interface ApacheNote {
  kind: 'ignored' | 'not-honoured' | 'order' | 'info';
  /** A full sentence saying what and why, and what to do if relevant. */
  message: string;
  file: string;
  line: number;
  /**
   * Apache would restrict access or send requests elsewhere, and wsgi-host cannot do the same:
   * `serve` refuses the configuration unless --accept-apache-differences (the security model).
   */
  refused?: true;
}

interface IgnoredEntry {
  note: ApacheNote;
  name: string;
  reason: string;
  count: number;
}

/**
 * The notes of a translation, in the order their subjects appear. An ignored directive is named
 * once, at its first location, with how many more times it appears.
 */
export class NoteCollector {
  readonly list: ApacheNote[] = [];
  private readonly ignoredByName = new Map<string, IgnoredEntry>();
  private readonly seen = new Set<string>();

  add(kind: ApacheNote['kind'], message: string, where: Where, refused = false): void {
    const id = `${kind}\0${message}\0${where.file}\0${where.line}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.list.push({ kind, message, file: where.file, line: where.line, ...(refused ? { refused: true as const } : {}) });
  }

  /** What restricts access or routes requests and cannot be honoured: named, and refused by `serve`. */
  refuse(message: string, where: Where): void {
    this.add('not-honoured', message, where, true);
  }

  /** The notes `serve` refuses the configuration for. */
  get refusals(): ApacheNote[] {
    return this.list.filter((n) => n.refused === true);
  }

  /** `name` is how the subject is shown ('LogLevel', '<Proxy>'); reason is a full sentence. */
  ignore(name: string, reason: string, where: Where): void {
    const key = name.toLowerCase();
    const entry = this.ignoredByName.get(key);
    if (entry !== undefined) {
      entry.count++;
      entry.note.message = ignoredMessage(entry);
      return;
    }
    const note: ApacheNote = { kind: 'ignored', message: '', file: where.file, line: where.line };
    const created = { note, name, reason, count: 1 };
    note.message = ignoredMessage(created);
    this.ignoredByName.set(key, created);
    this.list.push(note);
  }
}

function ignoredMessage(e: IgnoredEntry): string {
  const more = e.count > 1 ? ` (and ${e.count - 1} more)` : '';
  return `${e.name}${more} ignored: ${e.reason}`;
}
