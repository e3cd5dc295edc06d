// Where to connect and how: a [database] url plus the password from password_env, turned into pg's
// client settings; and the same URL without its password, the only form that reaches a log or an error.
import type { ClientConfig } from 'pg';
import { DatabaseOpenError } from '../storage-error.js';
import { CC_CSAT_TYPES } from './types.js';

// types.ts reads timestamptz and date as text in this exact form.
const SESSION_SETTINGS = '-c TimeZone=UTC -c DateStyle=ISO';
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectionTarget {
  /** The URL without its password: for logs and errors. */
  readonly description: string;
  /** Database and user as the server will see them, and where it is: for advice in error messages. */
  readonly database: string;
  readonly user: string;
  readonly address: string;
  /** Settings for a pg.Pool or pg.Client: the password and session settings are in here. */
  readonly clientConfig: ClientConfig;
  /** `text` with every occurrence of the password masked, for messages a driver may have built. */
  redact(text: string): string;
}

export interface ConnectionOptions {
  readonly password?: string | undefined;
  readonly applicationName?: string | undefined;
  readonly connectTimeoutMs?: number | undefined;
}

function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The text may hold a password: it is not repeated.
    throw new DatabaseOpenError('[database] url is not a valid URL: expected postgres://USER@HOST:PORT/DATABASE');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new DatabaseOpenError(`[database] url must start with postgres:// or postgresql:// (got ${parsed.protocol}//...)`);
  }
  return parsed;
}

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

export function connectionTarget(url: string, options: ConnectionOptions = {}): ConnectionTarget {
  const parsed = parseUrl(url);
  const urlPassword = parsed.searchParams.get('password') ?? decode(parsed.password);

  const withoutPassword = new URL(parsed.href);
  withoutPassword.password = '';
  // Only when there is one: deleting re-encodes the whole query string.
  if (withoutPassword.searchParams.has('password')) withoutPassword.searchParams.delete('password');
  const description = withoutPassword.href;

  // pg lets every setting in the URL override the same setting passed beside it, and always takes a
  // password from the URL (an empty one when there is none): the password and the session settings
  // therefore travel inside the URL, as query parameters, which pg reads before the user-info part.
  const connectWith = new URL(parsed.href);
  if (options.password !== undefined) {
    connectWith.password = '';
    connectWith.searchParams.set('password', options.password);
  }
  const ownOptions = connectWith.searchParams.get('options');
  connectWith.searchParams.set('options', ownOptions ? `${ownOptions} ${SESSION_SETTINGS}` : SESSION_SETTINGS);

  const user = connectWith.searchParams.get('user') ?? decode(parsed.username);
  const host = connectWith.searchParams.get('host') ?? decode(parsed.hostname);
  const port = connectWith.searchParams.get('port') ?? parsed.port;
  // Every password this target knows, as written and as a URL carries it; longest first, so a
  // password containing another is masked whole.
  const secrets = [options.password, urlPassword].filter((secret): secret is string => Boolean(secret));
  const masks = [...new Set(secrets.flatMap((secret) => [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)]))].sort(
    (a, b) => b.length - a.length,
  );
  return {
    description,
    database: decode(parsed.pathname.slice(1)) || user,
    user,
    address: `${host || 'localhost'}:${port || '5432'}`,
    clientConfig: {
      connectionString: connectWith.href,
      types: CC_CSAT_TYPES,
      keepAlive: true,
      // A server that vanished without closing (a failover, a cut link) is noticed after about
      // 10 s of silence plus the kernel's probes, not the OS default of two hours.
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      // A URL's own application_name wins (pg reads URL settings last).
      ...(options.applicationName !== undefined ? { application_name: options.applicationName } : {}),
    },
    redact: (text) => masks.reduce((masked, secret) => masked.replaceAll(secret, '***'), text),
  };
}
