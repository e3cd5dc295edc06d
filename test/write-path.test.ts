// Nothing acknowledged is ever lost: a 201 or a stored IVR rating is committed at that moment,
// no failure leaves a transaction open, and a lock held by another process neither stalls live
// calls nor turns into a silent loss.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { migrate, readMigrations, SQLITE_MIGRATIONS_DIR } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/sqlite/open.js';
import { StorageError } from '../src/db/storage-error.js';
import { AriSimulator } from './ari-sim/simulator.js';
import { startApi } from './helpers/api.js';
import { runCli } from './helpers/cli.js';
import { makeTempDir, writeConfigTree } from './helpers/config-tree.js';
import { spawnEngine, type EngineProcess } from './helpers/engine-process.js';
import { followScript, startHarness } from './helpers/harness.js';
import { until, within } from './helpers/wait.js';

const API_KEY = 'write-path-key';
const KEYED = `
[[api_keys]]
name = "ops"
key_sha256 = "${createHash('sha256').update(API_KEY).digest('hex')}"
scopes = ["csat:read", "csat:write"]
`;
const rating = { score: 5, agent_id: 'agent-1', queue_id: 'sales-queue' };

/** Another process's writer (cc-csat aggregate --full, a sqlite3 shell) holding SQLite's write lock. */
function holdWriteLock(dbPath: string): { release(): void } {
  const other = new SqliteDatabase(dbPath);
  other.exec('BEGIN IMMEDIATE');
  return {
    release() {
      if (other.open) {
        other.exec('ROLLBACK');
        other.close();
      }
    },
  };
}

const engines: EngineProcess[] = [];
afterEach(() => {
  for (const engine of engines.splice(0)) engine.child.kill('SIGKILL');
});

describe('acknowledged means committed', () => {
  test('a readiness probe that meets a locked database leaves nothing open: API and IVR ratings after it survive kill -9', async () => {
    const sim = await new AriSimulator({ username: 'csat', password: 'secret' }).start();
    const tree = writeConfigTree({ ariUrl: sim.url, logLevel: 'info', engineExtra: KEYED });
    const engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir });
    engines.push(engine);
    try {
      const base = await engine.started();
      await sim.waitForClients(1);
      await until(() => engine.output().includes('"msg":"connected to ARI"'), 10_000, engine.output);

      const lock = holdWriteLock(tree.dbPath);
      try {
        const probe = await within(fetch(`${base}/readyz`), 10_000, '/readyz while the database is locked');
        assert.equal(probe.status, 503);
        assert.match(((await probe.json()) as { database: string }).database, /locked/);
      } finally {
        lock.release();
      }

      const posted = await fetch(`${base}/cc/csat/api-1`, {
        method: 'POST',
        headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify(rating),
      });
      assert.equal(posted.status, 201);
      const caller = sim.enterStasis({ args: ['ivr-1', 'agent-1', 'sales-queue'] });
      const stop = followScript(sim, caller, [{ whenPlaying: 'rate-intro', after: 20, press: '2' }]);
      assert.equal(await within(caller.ended, 10_000, engine.output), 'app_hangup');
      stop();
      assert.ok(caller.played.some((media) => media.includes('sound:csat/you-pressed')), 'the caller heard the key read back');

      engine.child.kill('SIGKILL');
      await within(engine.exited, 10_000, 'the engine to die');
      const db = new SqliteDatabase(tree.dbPath, { readonly: true });
      try {
        assert.deepEqual(db.prepare('SELECT call_id, score FROM cc_csat ORDER BY call_id').all(), [
          { call_id: 'api-1', score: 5 },
          { call_id: 'ivr-1', score: 4 },
        ]);
      } finally {
        db.close();
      }
    } finally {
      await sim.close();
    }
  });

  test('a write that leaves a transaction open is rolled back and refused; a transaction leaked by someone else is never written into', async () => {
    const leaks: string[] = [];
    const database = openDatabase(join(makeTempDir(), 'cc.db'), { onLeakedTransaction: (what) => leaks.push(what) });
    try {
      await migrate(database.db, readMigrations(SQLITE_MIGRATIONS_DIR));
      const row = { call_id: 'c1', agent_id: 'a', queue_id: 'q', score: 3, comment: null, created_at: new Date().toISOString() };
      await assert.rejects(
        database.writes.write('half a write', async (db) => {
          await sql`BEGIN`.execute(db);
          await db.insertInto('cc_csat').values(row).execute();
        }),
        (err: unknown) => err instanceof StorageError && err.failure === 'internal',
      );
      assert.equal(database.sqlite.inTransaction, false);
      // Someone bypassed the gate and left a transaction open: the next write must not land inside it.
      database.sqlite.exec('BEGIN');
      database.sqlite.prepare('INSERT INTO cc_csat (call_id, agent_id, queue_id, score, created_at) VALUES (?, ?, ?, ?, ?)').run('leaked', 'a', 'q', 1, row.created_at);
      await database.writes.write('rating', (db) => db.insertInto('cc_csat').values({ ...row, call_id: 'c2' }).execute());
      assert.deepEqual(leaks, ['rating']);
      assert.equal(database.sqlite.inTransaction, false);
      const other = new SqliteDatabase(join(database.sqlite.name), { readonly: true });
      assert.deepEqual(other.prepare('SELECT call_id FROM cc_csat').all(), [{ call_id: 'c2' }], 'only the gate-committed row, visible to another connection');
      other.close();
    } finally {
      await database.close();
    }
  });

  test('a result-service run that fails in the middle leaves no transaction open; later ratings are committed', async () => {
    const api = await startApi();
    try {
      assert.equal((await api.request('POST', '/cc/csat/before-failure', { body: rating })).status, 201);
      api.database.sqlite.exec("CREATE TRIGGER fail_rollups BEFORE INSERT ON csat_rollup BEGIN SELECT RAISE(ABORT, 'disk trouble'); END");
      await assert.rejects(api.results.run('full'), /disk trouble/);
      assert.equal(api.database.sqlite.inTransaction, false);
      api.database.sqlite.exec('DROP TRIGGER fail_rollups');
      assert.equal((await api.request('POST', '/cc/csat/after-failure', { body: rating })).status, 201);
      const other = new SqliteDatabase(api.database.path, { readonly: true });
      assert.deepEqual(other.prepare('SELECT call_id FROM cc_csat ORDER BY call_id').all(), [{ call_id: 'after-failure' }, { call_id: 'before-failure' }]);
      other.close();
    } finally {
      await api.close();
    }
  });
});

describe('database trouble: clear, bounded, never a process-wide stall', () => {
  test('while another process holds the write lock, live callers keep getting barge-in, and their keys are stored once it is released', async () => {
    const h = await startHarness({ databaseExtra: 'lock_wait_ms = 30000' });
    const lock = holdWriteLock(h.tree.dbPath);
    try {
      const first = h.sim.enterStasis({ args: ['lock-1', 'agent-1', 'sales-queue'] });
      const stopFirst = followScript(h.sim, first, [{ whenPlaying: 'rate-intro', after: 20, press: '1' }]);
      await until(() => first.stoppedPlaybacks === 1, 10_000, 'the first caller barging in');
      // The first caller's rating now waits for the lock. A second caller must be served meanwhile:
      // with a blocking busy_timeout, the whole event loop would be frozen here.
      const second = h.sim.enterStasis({ args: ['lock-2', 'agent-2', 'sales-queue'] });
      const stopSecond = followScript(h.sim, second, [{ whenPlaying: 'rate-intro', after: 20, press: '5' }]);
      await until(() => second.stoppedPlaybacks === 1, 10_000, 'the second caller barging in while the lock is held');
      assert.equal((h.database.sqlite.prepare('SELECT count(*) AS n FROM cc_csat').get() as { n: number }).n, 0, 'nothing can be stored while the lock is held');
      lock.release();
      await within(Promise.all([h.surveyDone(first.id), h.surveyDone(second.id)]), 15_000, 'both surveys to end');
      stopFirst();
      stopSecond();
      const rows = h.database.sqlite.prepare('SELECT call_id, score FROM cc_csat ORDER BY call_id').all();
      assert.deepEqual(rows, [
        { call_id: 'lock-1', score: 5 },
        { call_id: 'lock-2', score: 1 },
      ]);
      for (const caller of [first, second]) assert.ok(caller.played.some((media) => media.includes('sound:csat/you-pressed')));
    } finally {
      lock.release();
      await h.close();
    }
  });

  test('an IVR rating that cannot be stored: the caller hears goodbye, not "you pressed"; outcome failed with the reason; the digit is in the log', async () => {
    const h = await startHarness({ databaseExtra: 'lock_wait_ms = 300' });
    const lock = holdWriteLock(h.tree.dbPath);
    // Released once the caller hears goodbye, so the outcome row can be written after the survey.
    const onGoodbye = (_channel: unknown, media: readonly string[]): void => {
      if (media.includes('sound:csat/goodbye')) lock.release();
    };
    h.sim.onPlaybackStarted.add(onGoodbye);
    try {
      const caller = await within(
        h.call({ args: ['unstorable-1', 'agent-1', 'sales-queue'], script: [{ whenPlaying: 'rate-intro', after: 20, press: '4' }] }),
        15_000,
        'the survey to end',
      );
      assert.equal(caller.endedBy, 'app_hangup');
      assert.ok(caller.played.some((media) => media.includes('sound:csat/goodbye')), `goodbye played: ${JSON.stringify(caller.played)}`);
      assert.ok(!caller.played.some((media) => media.includes('sound:csat/you-pressed')), 'never told "you pressed" for a rating that was not stored');
      assert.equal((h.database.sqlite.prepare("SELECT count(*) AS n FROM cc_csat WHERE call_id = 'unstorable-1'").get() as { n: number }).n, 0);
      const outcome = h.database.sqlite.prepare("SELECT outcome, reason, score FROM survey_outcome WHERE call_id = 'unstorable-1'").get() as {
        outcome: string;
        reason: string;
        score: number | null;
      };
      assert.equal(outcome.outcome, 'failed');
      assert.match(outcome.reason, /locked/);
      assert.equal(outcome.score, null);
      const logged = h.logs.lines.find((line) => line['level'] === 50 && line['call_id'] === 'unstorable-1' && line['digit'] === '4');
      assert.ok(logged, 'an error line carries the pressed digit');
    } finally {
      h.sim.onPlaybackStarted.delete(onGoodbye);
      lock.release();
      await h.close();
    }
  });

  test('API: a write that cannot be done is a 503 with Retry-After naming the cause (locked, disk full, read-only); nothing written', async () => {
    const api = await startApi({ databaseExtra: 'lock_wait_ms = 100' });
    const count = () => (api.database.sqlite.prepare('SELECT count(*) AS n FROM cc_csat').get() as { n: number }).n;
    try {
      const lock = holdWriteLock(api.database.path);
      try {
        const locked = await api.request('POST', '/cc/csat/while-locked', { body: rating });
        assert.equal(locked.status, 503);
        assert.match(locked.body.detail, /locked/);
        assert.equal(locked.headers.get('retry-after'), '1');
      } finally {
        lock.release();
      }
      assert.equal(count(), 0);

      // SQLite's own limits stand in for a full disk and a read-only file (root ignores file modes).
      const sqlite = api.database.sqlite;
      sqlite.pragma(`max_page_count = ${sqlite.pragma('page_count', { simple: true }) as number}`);
      const filler = sqlite.prepare("INSERT INTO cc_csat (call_id, agent_id, queue_id, score, comment, created_at) VALUES (?, 'a', 'q', 3, ?, '2026-01-01T00:00:00.000Z')");
      assert.throws(() => {
        for (let i = 0; i < 100_000; i++) filler.run(`filler-${i}`, 'z'.repeat(500));
      }, /full/);
      const filled = count();
      const full = await api.request('POST', '/cc/csat/disk-full', { body: { ...rating, comment: 'x'.repeat(1000) } });
      assert.equal(full.status, 503);
      assert.match(full.body.detail, /disk is full/);
      assert.ok(Number(full.headers.get('retry-after')) > 0);
      assert.equal(count(), filled);
      sqlite.exec("DELETE FROM cc_csat WHERE call_id LIKE 'filler-%'");
      sqlite.pragma('max_page_count = 1073741823');

      api.database.sqlite.pragma('query_only = ON');
      const readOnly = await api.request('POST', '/cc/csat/read-only', { body: rating });
      api.database.sqlite.pragma('query_only = OFF');
      assert.equal(readOnly.status, 503);
      assert.match(readOnly.body.detail, /read-only/);
      assert.equal(count(), 0, 'nothing was written by any of them');
      assert.equal((await api.request('POST', '/cc/csat/after-trouble', { body: rating })).status, 201);
      assert.equal(api.logs.lines.filter((line) => (line['level'] as number) >= 50).length, 0, 'database trouble is not logged as our bug');
    } finally {
      await api.close();
    }
  });
});

describe('start-up: the database and the port', () => {
  test('a database directory that does not exist is an error naming it, not a new empty database', async () => {
    const tree = writeConfigTree();
    const missing = join(tree.dir, 'no-such-dir', 'cc.db');
    writeFileSync(tree.enginePath, readFileSync(tree.enginePath, 'utf8').replace(tree.dbPath, missing));
    for (const command of ['migrate', 'start']) {
      const result = await runCli([command, '--config', tree.enginePath], { cwd: tree.dir });
      assert.equal(result.code, 1, `${command}: ${result.stdout}${result.stderr}`);
      assert.ok(result.stderr.includes(join(tree.dir, 'no-such-dir')), result.stderr);
    }
  });

  test('a file that is not a database, and a damaged database, are refused at start with the file named', async () => {
    const tree = writeConfigTree();
    writeFileSync(tree.dbPath, 'these are not the ratings you are looking for\n'.repeat(200));
    const notDb = await runCli(['migrate', '--config', tree.enginePath], { cwd: tree.dir });
    assert.equal(notDb.code, 1);
    assert.ok(notDb.stderr.includes(tree.dbPath), notDb.stderr);
    assert.match(notDb.stderr, /not a usable SQLite database/);

    const damaged = writeConfigTree();
    const db = new SqliteDatabase(damaged.dbPath);
    db.exec('CREATE TABLE filler (x TEXT); CREATE INDEX filler_x ON filler (x)');
    const insert = db.prepare('INSERT INTO filler VALUES (?)');
    for (let i = 0; i < 2000; i++) insert.run(`row-${i}-${'y'.repeat(200)}`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.close();
    // Scribble over a page in the middle of the file: the header still opens, the b-tree is broken.
    const fd = openSync(damaged.dbPath, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, Math.floor(pages / 2) * pageSize);
    closeSync(fd);
    const result = await runCli(['start', '--config', damaged.enginePath], { cwd: damaged.dir });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.ok(result.stderr.includes(damaged.dbPath), result.stderr);
    assert.match(result.stderr, /damaged|not a usable/);
  });

  test('a second engine on a port already in use exits 1 naming the address, instead of running headless', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    try {
      const tree = writeConfigTree({ httpPort: port });
      const engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir });
      engines.push(engine);
      assert.equal(await within(engine.exited, 15_000, engine.output), 1, engine.output());
      assert.ok(engine.output().includes(`127.0.0.1:${port}`), engine.output());
      assert.match(engine.output(), /in use/);
      assert.ok(!engine.output().includes('"msg":"cc-csat started"'), 'never claims to have started');
      assert.ok(!existsSync(tree.dbPath), 'the database of the engine that owns the port was not touched');
    } finally {
      squatter.close();
    }
  });
});
