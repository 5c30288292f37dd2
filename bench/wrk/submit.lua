-- wrk script: POST /tasks, one demo.noop task per request, to the queue in BENCH_QUEUE.
-- bench/run.sh runs it (RestSubmit.java); by hand:
--   BENCH_QUEUE=bench.rest wrk -t2 -c64 -d10s --latency -s bench/wrk/submit.lua http://127.0.0.1:8080/tasks
local queue = os.getenv("BENCH_QUEUE") or "bench.rest"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"task":"demo.noop","queue":"' .. queue .. '"}'
