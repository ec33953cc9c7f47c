/**
 * The live objects of one kind (connections, sessions, sockets), by key object: found by key, and
 * listed (for a reload or a stop). Not a Map or a Set: V8 rebuilds a Map or Set that entries keep
 * entering and leaving, and links each discarded table to the next; once one of those tables is
 * in the old generation (every full collection puts the live one there), every later table, and
 * every connection they name with all it holds, is promoted by the young collections until the
 * next full one. Under connection churn (a new connection per request) that promoted ~3.5 KB per
 * request and grew the front end by up to 100 MB (docs/performance.md, issue 17). Here the key
 * finds its entry through a WeakMap (whose discarded tables are neither linked nor hold their
 * keys), and the list is one array written in place: an entry leaves by swapping in the last one,
 * and the vacated slot is cleared.
 */
interface Entry<V> {
  value: V;
  /** Its place in `entries`. */
  index: number;
}

export class ObjectRegistry<K extends object, V> {
  private readonly byKey = new WeakMap<K, Entry<V>>();
  private readonly entries: Entry<V>[] = [];

  get size(): number {
    return this.entries.length;
  }

  /** Adds key with value, or gives a key already there this value. */
  set(key: K, value: V): void {
    const known = this.byKey.get(key);
    if (known !== undefined) {
      known.value = value;
      return;
    }
    const entry: Entry<V> = { value, index: this.entries.length };
    this.entries.push(entry);
    this.byKey.set(key, entry);
  }

  get(key: K): V | undefined {
    return this.byKey.get(key)?.value;
  }

  has(key: K): boolean {
    return this.byKey.has(key);
  }

  /** Takes key out (false when it was not there); the others keep theirs, in some order. */
  delete(key: K): boolean {
    const entry = this.byKey.get(key);
    if (entry === undefined) return false;
    this.byKey.delete(key);
    const last = this.entries.pop() as Entry<V>;
    if (last !== entry) {
      this.entries[entry.index] = last;
      last.index = entry.index;
    }
    return true;
  }

  /** The values now (a copy: adding or deleting while going through it is safe). */
  values(): V[] {
    return this.entries.map((e) => e.value);
  }
}
