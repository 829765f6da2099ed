const { openDatabase, TaskQueries } = require('/work/main/dist/libs/state/src');
const { SEED_NAMES } = require('/work/main/dist/test/bench/api-seed');
(async () => {
  const d = openDatabase('sqlite:/tmp/cm-api-bench/tasks-1000000-d1-b10000-s1-v1.db');
  const q = new TaskQueries(d.db);
  for (const field of ['started', 'finished', 'received', 'runtime']) for (const dir of ['desc', 'asc']) {
    const times = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await q.list({ filter: { names: [SEED_NAMES[i * 5]] }, order: { field, direction: dir }, first: 51 });
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(field, dir, 'p50', times[5].toFixed(1), 'max', times[9].toFixed(1));
  }
  const t = performance.now(); await q.list({ filter: { names: [SEED_NAMES[0]], states: ['FAILURE'] }, order: { field: 'finished', direction: 'desc' }, first: 51 }); console.log('name+FAILURE finished desc', (performance.now() - t).toFixed(1));
  await d.close();
})();
