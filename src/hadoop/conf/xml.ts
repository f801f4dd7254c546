import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { HadoopConfigurationError } from './errors';

/** One <property> of a Hadoop configuration file, in document order. */
export interface PropertyEntry {
  readonly name: string;
  readonly value: string;
  readonly final: boolean;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  // Keep every value a string: "010" or "1e3" must reach get() unchanged.
  parseTagValue: false,
  trimValues: true,
  isArray: (_name, jpath) => jpath === 'configuration.property',
});

/**
 * The properties of a core-site.xml-style document. `file` is only for messages. Properties
 * without a name are skipped, as Hadoop does; a property without <value> is an empty string
 * (Hadoop would treat it as unset, which makes no difference to horn's lookups with defaults
 * except that it is reported with its file).
 */
export function parseConfigurationXml(text: string, file: string): PropertyEntry[] {
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new HadoopConfigurationError(`${file}:${line}:${col}: not well-formed XML: ${msg}`, file, undefined);
  }
  const doc = parser.parse(text) as { configuration?: { property?: unknown[] } | string };
  if (doc.configuration === undefined) {
    throw new HadoopConfigurationError(`${file}: the root element is not <configuration>`, file, undefined);
  }
  const properties = typeof doc.configuration === 'object' ? (doc.configuration.property ?? []) : [];
  const out: PropertyEntry[] = [];
  for (const raw of properties) {
    if (!raw || typeof raw !== 'object') continue;
    const p = raw as Record<string, unknown>;
    const name = scalar(p.name).trim();
    if (name === '') continue;
    out.push({ name, value: scalar(p.value), final: scalar(p.final).trim().toLowerCase() === 'true' });
  }
  return out;
}

function scalar(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  // <value><![CDATA[…]]></value> or nested markup: keep the text parts.
  if (typeof v === 'object' && '#text' in v) return scalar((v as { '#text': unknown })['#text']);
  return '';
}
