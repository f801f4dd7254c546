import { HadoopConfigurationError } from './errors';
import type { PropertyEntry } from './xml';

/** A configuration resource: a site file's properties, or a table of Hadoop defaults. */
export interface ConfigurationResource {
  /** The file path (or e.g. "yarn-default.xml"), reported by sourceOf() and in errors. */
  readonly source: string;
  readonly entries: readonly PropertyEntry[];
}

export interface ConfigurationOptions {
  /** For ${env.NAME}. */
  readonly env?: NodeJS.ProcessEnv;
  /** Stand-ins for the JVM system properties that Hadoop consults before other keys (user.name…). */
  readonly systemProperties?: Readonly<Record<string, string>>;
  /** Where the site files were looked for, for messages. */
  readonly origin?: ConfigurationOrigin;
}

export interface ConfigurationOrigin {
  /** Directories searched (HADOOP_CONF_DIR, YARN_CONF_DIR). */
  readonly directories: readonly string[];
  /** Site files read, in precedence order (later wins). */
  readonly files: readonly string[];
  /** Site files looked for and absent. */
  readonly missing: readonly string[];
}

interface Setting {
  readonly value: string;
  readonly source: string;
  readonly final: boolean;
}

/** Hadoop's Configuration.MAX_SUBST: substitutions per value before giving up. */
export const MAX_SUBSTITUTIONS = 20;

// An innermost ${…}: no nested braces, dollars or spaces inside, as Hadoop's findSubVariable.
const VARIABLE = /\$\{([^${}\s]+)\}/;

/**
 * Hadoop's Configuration semantics over parsed resources: later resources override earlier ones
 * unless the earlier setting is final; values expand ${other.key}, ${env.NAME}, ${env.NAME:-default},
 * ${env.NAME-default} and system properties, with Hadoop's depth limit and self-reference rule.
 */
export class HadoopConfiguration {
  private readonly settings = new Map<string, Setting>();
  private readonly env: NodeJS.ProcessEnv;
  private readonly systemProperties: Readonly<Record<string, string>>;
  /** Later settings that a final one refused, for diagnostics: key → sources ignored. */
  readonly ignoredOverrides = new Map<string, string[]>();
  readonly origin: ConfigurationOrigin;

  constructor(resources: readonly ConfigurationResource[], options: ConfigurationOptions = {}) {
    this.env = options.env ?? process.env;
    this.systemProperties = options.systemProperties ?? {};
    this.origin = options.origin ?? { directories: [], files: [], missing: [] };
    for (const resource of resources) {
      for (const entry of resource.entries) {
        const previous = this.settings.get(entry.name);
        if (previous?.final) {
          const ignored = this.ignoredOverrides.get(entry.name) ?? [];
          ignored.push(resource.source);
          this.ignoredOverrides.set(entry.name, ignored);
          continue;
        }
        this.settings.set(entry.name, { value: entry.value, source: resource.source, final: entry.final });
      }
    }
  }

  /** The expanded value, or `defaultValue` when the key is unset. */
  get(key: string): string | undefined;
  get(key: string, defaultValue: string): string;
  get(key: string, defaultValue?: string): string | undefined {
    const raw = this.getRaw(key);
    if (raw === undefined) return defaultValue;
    return this.substitute(key, raw);
  }

  /** The value as written, without expansion. */
  getRaw(key: string): string | undefined {
    return this.settings.get(key)?.value;
  }

  /** The expanded value with surrounding white space removed; empty counts as unset. */
  getTrimmed(key: string): string | undefined {
    const v = this.get(key)?.trim();
    return v === '' ? undefined : v;
  }

  has(key: string): boolean {
    return this.settings.has(key);
  }

  getInt(key: string, defaultValue: number): number {
    const v = this.getTrimmed(key);
    if (v === undefined) return defaultValue;
    // Hadoop accepts hexadecimal (0x…) as well as decimal.
    const n = /^-?0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : /^[-+]?\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) {
      throw new HadoopConfigurationError(`${this.sourceOf(key) ?? 'configuration'}: ${key} = ${JSON.stringify(v)} is not an integer`, this.sourceOf(key), key);
    }
    return n;
  }

  /** Like Hadoop: "true"/"false" in any case; anything else is the default. */
  getBoolean(key: string, defaultValue: boolean): boolean {
    const v = this.getTrimmed(key)?.toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
    return defaultValue;
  }

  /** Comma-separated values, each trimmed, empty ones dropped. */
  getTrimmedStrings(key: string): string[] {
    const v = this.get(key);
    if (v === undefined) return [];
    return v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  /** The file (or defaults table) that the key's value came from. */
  sourceOf(key: string): string | undefined {
    return this.settings.get(key)?.source;
  }

  isFinal(key: string): boolean {
    return this.settings.get(key)?.final ?? false;
  }

  keys(): string[] {
    return [...this.settings.keys()];
  }

  private substitute(key: string, expression: string): string {
    let evaluated = expression;
    for (let step = 0; step < MAX_SUBSTITUTIONS; step++) {
      const match = VARIABLE.exec(evaluated);
      if (!match) return evaluated;
      const [bounded, name] = match;
      const value = this.resolveVariable(name);
      // Unbound: Hadoop leaves the ${…} in place and stops.
      if (value === undefined) return evaluated;
      // A value that contains its own reference would never converge.
      if (value.includes(bounded)) return expression;
      evaluated = evaluated.slice(0, match.index) + value + evaluated.slice(match.index + bounded.length);
    }
    const source = this.sourceOf(key);
    throw new HadoopConfigurationError(
      `${source ?? 'configuration'}: ${key}: variable substitution depth too large (${MAX_SUBSTITUTIONS}) in ${JSON.stringify(expression)}`,
      source,
      key,
    );
  }

  private resolveVariable(name: string): string | undefined {
    if (name.startsWith('env.') && name.length > 4) return this.resolveEnv(name.slice(4));
    return this.systemProperties[name] ?? this.getRaw(name);
  }

  /** NAME, NAME:-default (default when unset or empty), NAME-default (default when unset). */
  private resolveEnv(spec: string): string | undefined {
    for (let i = 0; i < spec.length; i++) {
      const c = spec[i];
      if (c === ':' && spec[i + 1] === '-' && i < spec.length - 1) {
        const v = this.env[spec.slice(0, i)];
        return v === undefined || v === '' ? spec.slice(i + 2) : v;
      }
      if (c === '-') {
        const v = this.env[spec.slice(0, i)];
        return v === undefined ? spec.slice(i + 1) : v;
      }
    }
    return this.env[spec];
  }
}
