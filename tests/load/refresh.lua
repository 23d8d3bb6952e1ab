-- Refresh-token chains, one per connection and a spare per thread, dealt out over the wrk
-- threads (POLYAUTH_LOAD_THREADS). A connection has one request in flight, so a thread with c
-- connections and c chains always has a free one (the spare is for wrk's check of the script,
-- which calls the first thread's request() once before the run): each request takes a chain's current token
-- from its thread's pool and each answer puts the chain's new token back, whichever connection
-- carried it. Answers other than 200 with a token are counted as unexpected (their chain ends).
local tokens = {}
local threads = {}
function setup(thread)
  if #tokens == 0 then
    for line in io.lines(os.getenv("POLYAUTH_LOAD_TOKENS")) do tokens[#tokens + 1] = line end
  end
  local every = tonumber(os.getenv("POLYAUTH_LOAD_THREADS"))
  local share = {}
  for i = #threads + 1, #tokens, every do share[#share + 1] = tokens[i] end
  threads[#threads + 1] = thread
  thread:set("pool", share)
end
function init(args) unexpected = 0 end
function request()
  local token = table.remove(pool) or "none-left"
  return wrk.format("POST", nil, {["content-type"] = "application/json"}, '{"refreshToken":"' .. token .. '"}')
end
function response(status, headers, body)
  local next_token = body:match('"refreshToken":"([^"]+)"')
  if status ~= 200 or not next_token then unexpected = unexpected + 1 else pool[#pool + 1] = next_token end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + (t:get("unexpected") or 0) end
  io.write("unexpected=" .. n .. "\n")
end
