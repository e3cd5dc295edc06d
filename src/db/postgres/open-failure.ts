// Why a PostgreSQL database cannot be used at start-up, in words an operator can act on. Every
// message names the server by its URL without the password, and is scrubbed of the password in case
// the driver echoed it.
import type { ConnectionTarget } from './connection.js';
import { codeOf, messageOf } from './errors.js';

function advice(target: ConnectionTarget, code: string, reason: string): string {
  const where = `PostgreSQL at ${target.description}`;
  const user = target.user || 'the connecting user';
  if (code === '28P01' || /password authentication failed|client password must be a string|no password/i.test(reason)) {
    return `cannot log in to ${where} as ${user} (${reason}): check the user in [database] url and the password, which comes from the environment variable [database] password_env names`;
  }
  if (code === '28000') {
    return `${where} refuses ${user} (${reason}): the server's pg_hba.conf has no entry that lets this user connect from here to database ${target.database}`;
  }
  if (code === '3D000') {
    return `database "${target.database}" does not exist on ${target.address} (${reason}): create it (createdb ${target.database}, as a user allowed to create databases) or fix [database] url`;
  }
  if (code === '42501') {
    return `${user} may not connect to database ${target.database} on ${target.address} (${reason}): GRANT CONNECT ON DATABASE ${target.database} TO ${user}`;
  }
  if (code === 'ECONNREFUSED') {
    return `cannot connect to ${where}: connection refused: is PostgreSQL running and listening on ${target.address} (listen_addresses, port)? Otherwise fix [database] url`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `cannot connect to ${where}: host not found (${reason}): fix the host in [database] url`;
  }
  if (['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code) || /timeout|timed out/i.test(reason)) {
    return `cannot connect to ${where}: ${target.address} is unreachable (${reason}): check the host and port in [database] url, and any firewall between`;
  }
  if (code === '57P03' || code === '53300') {
    return `${where} does not take connections now (${reason}): try again once it has started, or has connections to spare (max_connections)`;
  }
  return `cannot open ${where} (${reason})`;
}

export function describeOpenFailure(target: ConnectionTarget, err: unknown): string {
  return target.redact(advice(target, codeOf(err) ?? '', messageOf(err)));
}
