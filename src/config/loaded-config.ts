import { ConfigError } from './errors.js';
import type { ServerConfig } from './schema.js';
import type { InputDescriber, ModelPath } from './validate.js';

/** Something said about a config input that is not an error: ignored directives, order traps... */
export interface ConfigNote {
  kind: 'ignored' | 'not-honoured' | 'order' | 'info' | 'warning';
  message: string;
  file?: string;
  line?: number;
  /** Apache would restrict access or route requests differently: serve refuses unless the difference is accepted. */
  refused?: true;
}

/** A validated config and what is needed to talk about it: where each value came from. */
export interface LoadedConfig {
  config: ServerConfig;
  /** Relative paths in the config are taken from here. */
  baseDir: string;
  describer: InputDescriber;
  notes: ConfigNote[];
  /** How the input names a group's python-home ('--python-home', "WSGIDaemonProcess blog python-home="...). */
  homeSetting: (group: string | undefined) => string;
  /** 'site.toml', 'site.conf (Apache)', 'command-line flags'. */
  label: string;
  /** What makes this configuration itself: the file's real path, or the flags' listen address. */
  identity: string;
  /**
   * Put each group's working directory first on sys.path (`serve SCRIPT`, as mod_wsgi-express's
   * daemon home=: a Django project's package imports when served from the project folder).
   */
  addWorkingDirectory?: boolean;
  /** --accept-apache-differences: refused Apache directives are served without (warnings). */
  acceptDifferences?: boolean;
}

/** Gives a ConfigError raised about a model path its file and line, when it has none yet. */
export function locateError(err: unknown, describer: InputDescriber): unknown {
  if (err instanceof ConfigError && err.source === undefined && err.path.length > 0) {
    err.source = describer.locate(err.path as ModelPath);
  }
  return err;
}

export { formatSource } from './errors.js';

export type { ServerConfig };
