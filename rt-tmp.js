const { openDatabase, TaskQueries } = require('/work/main/dist/libs/state/src');
const { SEED_NAMES } = require('/work/main/dist/test/bench/api-seed');
(async () => {
  const d = openDatabase('sqlite:/tmp/cm-api-bench/tasks-1000000-d1-b10000-s1-v1.db');
  const pool = d.openReadPool(4);
  let n = 0;
  const db0 = d.db;
  const counting = (label, db) => db;
  const span = await d.db.selectFrom('tasks').select((eb) => [eb.fn.min('received_at').as('lo'), eb.fn.max('received_at').as('hi')]).executeTakeFirst();
  let seed = 1; const r = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (const [label, db] of [['main', d.db], ['pool', pool.db], ['main', d.db], ['pool', pool.db]]) {
    const q = new TaskQueries(db);
    const times = [];
    for (let i = 0; i < 200; i++) {
      const from = span.lo + r() * (span.hi - span.lo - 6 * 3600);
      const t = performance.now();
      await q.list({ filter: { names: [SEED_NAMES[Math.floor(r() * SEED_NAMES.length)]], states: ['FAILURE'], received: { from, to: from + 6 * 3600 } }, order: { field: 'received', direction: 'desc' }, first: 51 });
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(label, 'p50', times[100].toFixed(2), 'p95', times[190].toFixed(2), 'max', times[199].toFixed(2));
  }
  await pool.close(); await d.close();
})();
