-- wrk script: POST a different pre-built survey submission on every
-- request (each carries its own one-time token), round-robin per thread.
-- The requests are formatted once, in init: wrk shares the machine's cores
-- with the server, and formatting each request in Lua cost it about half
-- again the CPU per request it spends on the ceilings' plain GETs.
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
  requests = {}
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format(nil, nil, nil, body)
  end
end

function request()
  local prepared = requests[(counter % #requests) + 1]
  counter = counter + step
  return prepared
end
