-- wrk script: POST a different pre-built survey submission on every
-- request (each carries its own one-time token), round-robin per thread.
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
end

function request()
  local body = bodies[(counter % #bodies) + 1]
  counter = counter + step
  return wrk.format(nil, nil, nil, body)
end
