-- The wrk (4.1) driver of bench/server.py (bench/_wrk.py runs it): sends exactly the requests prepared in a file,
-- each once, over wrk's connections (one request in flight on each), and stops when every one was answered.
--
--   wrk -t 1 -c 16 -d 120s --timeout 60s -s bench/_wrk.lua http://127.0.0.1:PORT -- REQUESTS RESULTS
--
-- REQUESTS: for each request "<length in bytes>\n" then the raw HTTP/1.1 request (method, path, headers, body).
-- RESULTS: written by done(): "key value" lines (sent, answered, first_us, last_us, duration_us, requests, errors
-- by kind, one "status CODE COUNT" per status and one "latency MICROSECONDS COUNT" per value of wrk's histogram).
--
-- How wrk 4.1 calls these (src/wrk.c, src/script.c): init() runs in each thread's Lua state, then request() is
-- called once more for thread 0 to check the request parses (script_verify_request) — that call must not use up
-- a request, so requests are handed out only once delay() has been called (delay() precedes every real request
-- when it is defined). delay() returning a very large number keeps a connection that finds nothing left from
-- asking again; two connections may both have been told 0 for the last request, though (each delay() is answered
-- before the request() that follows it), and the one that comes second gets "": wrk then writes nothing and the
-- connection waits, idle. response() is called for every answer (before wrk records its latency, measured from
-- the first byte written); the last answer stops the thread and interrupts wrk's main thread, which otherwise
-- sleeps the whole -d before it joins the thread.

local ffi = require("ffi")
ffi.cdef [[
  typedef unsigned long pthread_t;
  pthread_t pthread_self(void);
  int pthread_kill(pthread_t thread, int sig);
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]

local SIGINT = 2
local CLOCK_MONOTONIC = 1
local NEVER = 3600 * 1000 -- ms: a connection with nothing left to send waits longer than any run

local function now_us()
  local ts = ffi.new("bench_timespec")
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

-- setup phase (wrk's main thread and Lua state) ------------------------------------------------------------

local threads = {}

function setup(thread)
  thread:set("main_thread", tonumber(ffi.C.pthread_self()))
  table.insert(threads, thread)
end

-- running phase (each wrk thread's own Lua state) ------------------------------------------------------------

function init(args)
  results_path = args[2]
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  prepared = {}
  local at = 1
  while at <= #data do
    local newline = assert(data:find("\n", at, true))
    local length = assert(tonumber(data:sub(at, newline - 1)))
    prepared[#prepared + 1] = data:sub(newline + 1, newline + length)
    at = newline + length + 1
  end
  total = #prepared
  sent = 0
  answered = 0
  statuses = {}
  first_us = 0
  last_us = 0
  running = false
end

function delay()
  running = true
  if sent >= total then
    return NEVER
  end
  return 0
end

function request()
  if not running then -- wrk's parse check before the run: not a request sent
    return prepared[1]
  end
  if sent >= total then -- nothing left: write nothing
    return ""
  end
  sent = sent + 1
  if sent == 1 then
    first_us = now_us()
  end
  return prepared[sent]
end

function response(status, headers, body)
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  if answered == total then
    last_us = now_us()
    wrk.thread:stop()
    ffi.C.pthread_kill(main_thread, SIGINT) -- ends wrk's sleep(-d) at once
  end
end

-- done phase (main thread) ----------------------------------------------------------------------------------

function done(summary, latency, requests)
  local thread = threads[1]
  local out = assert(io.open(thread:get("results_path"), "w"))
  for _, key in ipairs({ "sent", "answered", "first_us", "last_us" }) do
    out:write(key, " ", string.format("%d", thread:get(key)), "\n")
  end
  out:write("duration_us ", string.format("%d", summary.duration), "\n")
  out:write("requests ", string.format("%d", summary.requests), "\n")
  for _, kind in ipairs({ "connect", "read", "write", "status", "timeout" }) do
    out:write("error_", kind, " ", string.format("%d", summary.errors[kind]), "\n")
  end
  for code, count in pairs(thread:get("statuses")) do
    out:write("status ", string.format("%d %d", code, count), "\n")
  end
  for i = 1, #latency do
    local value, count = latency(i)
    out:write("latency ", string.format("%d %d", value, count), "\n")
  end
  out:close()
end
