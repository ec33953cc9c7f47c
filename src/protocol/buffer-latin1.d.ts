// Node's Buffer has fast one-byte-string methods that @types/node does not declare.
declare global {
  interface Buffer {
    latin1Write(text: string, offset?: number, length?: number): number;
    latin1Slice(start?: number, end?: number): string;
  }
}
export {};
