-- Shared by bench/wrk_get.lua and bench/wrk_post.lua (loaded with dofile).
-- Counts responses by status class in every thread and prints one JSON line at the end.
--
-- Environment:
--   WRK_DATA     a file of prepared requests, one per line, fields separated by a tab:
--                path, Cookie header, body (POST only); empty: every request is the URL's
--   WRK_THREADS  the -t given to wrk (lines are dealt out by thread)
--   WRK_REUSE    1: lines go round again (GET); 0: each line is meant to be sent once (POST
--                of a paper: each submission needs its own attempt), and every line sent
--                beyond the file's count is reported as "exhausted"

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- This thread's share of the lines (every WRK_THREADS-th), then the other threads' lines from
-- the end backwards. A thread that runs out of its share goes on where the others will come
-- last, so with two threads (bench/load.py's) no line is sent twice before every line has
-- been sent once.
function load_lines(id)
  local own, others = {}, {}
  local path = os.getenv("WRK_DATA") or ""
  local total = tonumber(os.getenv("WRK_THREADS") or "1")
  if path == "" then return own end
  local n = 0
  for line in io.lines(path) do
    local fields = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
    if n % total == id then table.insert(own, fields) else table.insert(others, fields) end
    n = n + 1
  end
  for i = #others, 1, -1 do table.insert(own, others[i]) end
  return own
end

function init(args)
  c2xx, c3xx, c4xx, c5xx, issued = 0, 0, 0, 0, 0
  lines = load_lines(id)
  position = 0
end

function response(status, headers, body)
  if status < 300 then c2xx = c2xx + 1
  elseif status < 400 then c3xx = c3xx + 1
  elseif status < 500 then c4xx = c4xx + 1
  else c5xx = c5xx + 1 end
end

-- The next prepared line, or nil when there is none; `issued` counts the lines handed out.
function next_line()
  if #lines == 0 then return nil end
  issued = issued + 1
  position = position % #lines + 1
  return lines[position]
end

-- bench/load.py merges the latencies of several runs from these points (its PERCENTILES).
local PERCENTILES = {}
for p = 1, 99 do table.insert(PERCENTILES, p) end
table.insert(PERCENTILES, 99.5)
table.insert(PERCENTILES, 99.9)

function done(summary, latency, requests)
  local t = {c2xx = 0, c3xx = 0, c4xx = 0, c5xx = 0, issued = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(t) do t[key] = t[key] + (thread:get(key) or 0) end
  end
  -- Without reuse, every line handed out beyond the file's count resent a line (a paper
  -- already submitted): "exhausted" counts them, requests in flight at the end included.
  t.exhausted = 0
  local path = os.getenv("WRK_DATA") or ""
  if path ~= "" and os.getenv("WRK_REUSE") == "0" then
    local count = 0
    for _ in io.lines(path) do count = count + 1 end
    t.exhausted = math.max(0, t.issued - count)
  end
  local points = {}
  for _, p in ipairs(PERCENTILES) do table.insert(points, latency:percentile(p)) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "timeouts": %d, "status_errors": %d, "c2xx": %d, "c3xx": %d, ' ..
    '"c4xx": %d, "c5xx": %d, "exhausted": %d, "percentiles_us": [%s]}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean, e.connect,
    e.read, e.write, e.timeout, e.status, t.c2xx, t.c3xx, t.c4xx, t.c5xx, t.exhausted,
    table.concat(points, ", ")))
end
