-- wrk script: POST /tasks/batch, BENCH_BATCH (50) demo.noop tasks per request, to BENCH_QUEUE.
-- bench/run.sh runs it (RestSubmit.java); by hand:
--   BENCH_QUEUE=bench.rest wrk -t2 -c16 -d10s --latency -s bench/wrk/batch.lua http://127.0.0.1:8080/tasks/batch
local queue = os.getenv("BENCH_QUEUE") or "bench.rest"
local size = tonumber(os.getenv("BENCH_BATCH") or "50")
local task = '{"task":"demo.noop","queue":"' .. queue .. '"}'
local tasks = {}
for i = 1, size do
  tasks[i] = task
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = "[" .. table.concat(tasks, ",") .. "]"
