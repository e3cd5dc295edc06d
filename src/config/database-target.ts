// [database] url (or a --from/--to of cc-csat migrate-data) as the database it names.
import { resolve } from 'node:path';

export type DatabaseTarget =
  /** `path` is absolute, or ':memory:'. */
  | { readonly kind: 'sqlite'; readonly path: string }
  /** `password` from password_env; undefined when the URL carries it or the server needs none. */
  | {
      readonly kind: 'postgres';
      readonly url: string;
      readonly password: string | undefined;
      readonly poolMax: number;
      readonly statementTimeoutMs: number;
    };

export const isPostgresUrl = (url: string): boolean => {
  if (!/^postgres(ql)?:\/\//.test(url)) return false;
  try {
    const parsed = new URL(url);
    return parsed.hostname !== '' && parsed.pathname.length > 1;
  } catch {
    return false;
  }
};

/** Undefined when `url` is neither sqlite:PATH nor a postgres:// URL with a host and a database. */
export function databaseTarget(
  url: string,
  options: { cwd: string; password?: string | undefined; poolMax?: number; statementTimeoutMs?: number },
): DatabaseTarget | undefined {
  if (/^sqlite:.+/.test(url)) {
    const path = url.slice('sqlite:'.length);
    return { kind: 'sqlite', path: path === ':memory:' ? ':memory:' : resolve(options.cwd, path) };
  }
  if (isPostgresUrl(url)) {
    return { kind: 'postgres', url, password: options.password, poolMax: options.poolMax ?? 10, statementTimeoutMs: options.statementTimeoutMs ?? 30_000 };
  }
  return undefined;
}
