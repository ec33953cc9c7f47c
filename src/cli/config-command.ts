import { ConfigError, ConfigErrorCode as C } from '../config/errors.js';
import { configJsonSchema } from '../config/json-schema.js';
import { formatSource } from '../config/loaded-config.js';
import { toToml } from '../config/print-toml.js';
import { parseCommand } from './args.js';
import { INPUT_OPTIONS, loadInput, planLoaded } from './config-input.js';

export const CONFIG_HELP = `Usage: wsgi-host config print (-c FILE | --apache FILE | SCRIPT [serve options])
       wsgi-host config from-apache FILE [-D NAME]
       wsgi-host config schema

  print         the effective configuration, with every default, as a wsgi-host.toml
  from-apache   translate an Apache mod_wsgi configuration into a wsgi-host.toml; what is
                ignored or cannot be honoured is listed in comments at the top
  schema        the JSON Schema of wsgi-host.toml, for editors (also in docs/wsgi-host.schema.json)

  -h, --help    show this help
`;

export async function configCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(CONFIG_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'schema') {
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    return 0;
  }
  if (sub === 'print') {
    const { values, positionals } = parseCommand('config print', rest, { ...INPUT_OPTIONS, help: { type: 'boolean', short: 'h' } }, true);
    if (values.help) {
      process.stdout.write(CONFIG_HELP);
      return 0;
    }
    const loaded = await loadInput('config print', values, positionals);
    planLoaded(loaded);
    process.stdout.write(toToml(loaded.config, `# The effective configuration of ${loaded.label}, with every default.`));
    return 0;
  }
  if (sub === 'from-apache') {
    const { values, positionals } = parseCommand(
      'config from-apache',
      rest,
      { define: { type: 'string', short: 'D', multiple: true }, help: { type: 'boolean', short: 'h' } },
      true,
    );
    if (values.help) {
      process.stdout.write(CONFIG_HELP);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new ConfigError(C.BAD_FLAG, "'wsgi-host config from-apache' takes one Apache configuration file", {
        hint: 'wsgi-host config from-apache /etc/apache2/sites-enabled/site.conf',
      });
    }
    const file = positionals[0] as string;
    const { loadApacheTranslation } = await import('../config/apache-file.js');
    const { translation: t, loaded } = loadApacheTranslation(file, (values.define as string[] | undefined) ?? [], { refuse: false });
    planLoaded(loaded);
    const header = [`# Translated from the Apache configuration ${file} by wsgi-host config from-apache.`];
    if (loaded.notes.some((n) => n.refused === true)) {
      header.push(
        '# wsgi-host serve --apache refuses it for the lines marked "refused" (or serves without them with --accept-apache-differences); this translation leaves them out.',
      );
    }
    for (const n of loaded.notes) header.push(`# ${n.refused === true ? 'refused' : n.kind}: ${formatSource(n)}: ${n.message}`);
    process.stdout.write(toToml(t.config, header.join('\n')));
    return 0;
  }
  throw new ConfigError(C.BAD_FLAG, `unknown 'wsgi-host config' command '${sub}'`, { hint: 'Use print, from-apache or schema' });
}
