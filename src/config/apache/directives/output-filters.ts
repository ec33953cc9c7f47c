import type { DirectiveNode } from '../read/nodes.js';
import type { Ctx, Site } from './site.js';

/**
 * AddOutputFilter, AddOutputFilterByType and SetOutputFilter: Apache's output filters, which
 * wsgi-host does not run. mod_deflate's DEFLATE (and mod_brotli's BROTLI_COMPRESS) compress
 * responses: wsgi-host's own compression is `compress` on a mount or static alias, which the
 * note names; compression never changes who gets in, so a note is enough.
 */
export const OUTPUT_FILTERS =
  "it is Apache's handling of responses; with DEFLATE or BROTLI_COMPRESS the note names wsgi-host's own compression (compress on a mount or static alias).";

const COMPRESSING = new Set(['DEFLATE', 'BROTLI_COMPRESS']);

export function outputFilter(d: DirectiveNode, _ctx: Ctx, site: Site, reason: string): void {
  const filters = (d.name.toLowerCase() === 'addoutputfilterbytype' ? d.args.slice(0, 1) : d.args).flatMap((a) => a.split(/[;,]/));
  if (!filters.some((f) => COMPRESSING.has(f.trim().toUpperCase()))) {
    site.notes.ignore(d.name, reason, d);
    return;
  }
  site.notes.add(
    'not-honoured',
    `${d.name} ${d.args.join(' ')}: wsgi-host does not run Apache's output filters, so responses are not compressed by it. To compress, serve a wsgi-host TOML with compress = true (or compress = { types = [...] }) on the mount or static alias (gzip and brotli, text types, bodies of 1 KiB or more).`,
    d,
  );
}
