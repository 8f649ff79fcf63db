-- wrk script: POST a different pre-built survey submission on every
-- request (each carries its own one-time token), round-robin per thread.
-- Each request is formatted once, in init() before the run: wrk shares the
-- machine's two cores with the server, and formatting a 1 kB body on every
-- request (Lua string building) took CPU time from the server it measures.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    bodies[#bodies + 1] = line
  end
  local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
  local n = tonumber(os.getenv("BENCH_THREADS") or "2")
  -- Thread i takes bodies offset+i, offset+i+n, ... so none is sent twice.
  counter = offset + id
  step = n
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = "csrftoken=" .. os.getenv("BENCH_CSRF")
  wrk.path = os.getenv("BENCH_PATH")
  -- The requests this thread sends, in order; the same bodies as before.
  requests = {}
  for i = 1, #bodies do
    if (i - 1 - counter) % step == 0 then
      requests[i] = wrk.format(nil, nil, nil, bodies[i])
    end
  end
end

function request()
  local i = (counter % #bodies) + 1
  counter = counter + step
  -- Past the end the round-robin wraps onto bodies of other residues
  -- when their number is not a multiple of the threads': formatted then.
  return requests[i] or wrk.format(nil, nil, nil, bodies[i])
end
