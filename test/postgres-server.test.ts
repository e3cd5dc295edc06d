// The PostgreSQL tier's own check: the server at CC_CSAT_POSTGRES_URL (bash .ci/postgres.sh) hands a
// test a fresh database that takes writes and reads, and drop() removes it again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { POSTGRES_ADMIN_URL, POSTGRES_SKIP, createPostgresDatabase } from './helpers/postgres.js';

test('PostgreSQL tier: a fresh database per test takes a write, reads it back and is dropped, open session and all', { skip: POSTGRES_SKIP }, async () => {
  const db = await createPostgresDatabase('postgres-server smoke');
  const name = decodeURIComponent(new URL(db.url).pathname.slice(1));
  assert.match(name, /^cc_csat_t_postgres_server_smoke_[0-9a-f]{12}$/);
  const client = new pg.Client({ connectionString: db.url, connectionTimeoutMillis: 10_000 });
  // drop() below ends this session from the server side; pg reports that as an 'error' event.
  const sessionErrors: Error[] = [];
  client.on('error', (err) => sessionErrors.push(err));
  try {
    await client.connect();
    const { rows: tables } = await client.query("SELECT 1 FROM pg_tables WHERE schemaname = 'public'");
    assert.equal(tables.length, 0, 'a fresh database has no tables');
    await client.query('CREATE TABLE survey_answer (id serial PRIMARY KEY, score int NOT NULL, note text NOT NULL)');
    await client.query('INSERT INTO survey_answer (score, note) VALUES ($1, $2)', [4, 'héllo, wörld']);
    const { rows } = await client.query<{ score: number; note: string }>('SELECT score, note FROM survey_answer');
    assert.deepEqual(rows, [{ score: 4, note: 'héllo, wörld' }]);
  } finally {
    // Dropped while the session above is still open: drop() must end it rather than fail.
    await db.drop();
    await client.end().catch(() => undefined);
  }
  assert.ok(sessionErrors.every((err) => /terminat/i.test(err.message)), `unexpected session errors: ${sessionErrors.map(String).join('; ')}`);

  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    assert.equal(rows.length, 0, `database ${name} still exists after drop()`);
  } finally {
    await admin.end();
  }
});
