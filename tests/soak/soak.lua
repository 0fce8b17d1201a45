-- wrk script for the jwtgate soak: cycles through a pre-generated token file mixing token
-- classes, tallies what each class was sent and what came back, and stops each thread after
-- its share of the request budget.
--   SOAK_RESULT=out.json wrk ... -s soak.lua http://127.0.0.1:PORT/ -- TOKEN_FILE REQUESTS_PER_THREAD
-- TOKEN_FILE: one "class token" per line. A response is recorded as "status:code" (the
-- filter's JSON error code, or "ok" for the backend's 200), so each class's verdict can be
-- matched against what it was sent, since wrk gives no request/response pairing.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  local file, limit = args[1], tonumber(args[2])
  budget = limit
  reqs, classes = {}, {}
  sent, got = {}, {}
  done_count = 0
  local f = assert(io.open(file, "r"))
  for line in f:lines() do
    local class, token = line:match("^(%S+) (%S+)$")
    if class then
      table.insert(reqs, wrk.format("GET", "/", {["Authorization"] = "Bearer " .. token}))
      table.insert(classes, class)
    end
  end
  f:close()
  n = #reqs
end

function request()
  if not i then
    -- Threads start at different offsets (setup() has set `id` by now).
    i = ((id or 1) - 1) * math.floor(n / 2)
  end
  i = i % n + 1
  local c = classes[i]
  sent[c] = (sent[c] or 0) + 1
  return reqs[i]
end

function response(status, headers, body)
  local code
  if status == 200 then
    code = "ok"
  else
    code = body and body:match('"error":"([%w_]+)"') or "?"
  end
  local k = status .. ":" .. code
  got[k] = (got[k] or 0) + 1
  done_count = done_count + 1
  if done_count == budget then
    -- wrk's main thread sleeps for the whole -d duration regardless: leave a marker so the
    -- driver can end the run (SIGINT) once every thread has spent its budget.
    local f = io.open(os.getenv("SOAK_RESULT") .. ".done." .. (id or 1), "w")
    if f then f:close() end
    wrk.thread:stop()
  end
end

local function put(t)
  local parts = {}
  for k, v in pairs(t) do table.insert(parts, string.format('"%s":%d', k, v)) end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local sent_all, got_all = {}, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("sent")) do sent_all[k] = (sent_all[k] or 0) + v end
    for k, v in pairs(t:get("got")) do got_all[k] = (got_all[k] or 0) + v end
  end
  local e = summary.errors
  local out = string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p99":%d,"max":%d},"sent":%s,"got":%s}',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, put(sent_all), put(got_all))
  local f = assert(io.open(os.getenv("SOAK_RESULT"), "w"))
  f:write(out .. "\n")
  f:close()
end
