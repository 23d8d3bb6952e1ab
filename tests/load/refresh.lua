-- One refresh-token chain per thread (one connection per thread): each answer's new token is
-- the next request's. Answers other than 200 with a token are counted as unexpected.
local tokens = {}
local threads = {}
function setup(thread)
  if #tokens == 0 then
    for line in io.lines(os.getenv("POLYAUTH_LOAD_TOKENS")) do tokens[#tokens + 1] = line end
  end
  threads[#threads + 1] = thread
  thread:set("token", tokens[#threads])
end
function init(args) unexpected = 0 end
function request()
  return wrk.format("POST", nil, {["content-type"] = "application/json"}, '{"refreshToken":"' .. token .. '"}')
end
function response(status, headers, body)
  local next_token = body:match('"refreshToken":"([^"]+)"')
  if status ~= 200 or not next_token then unexpected = unexpected + 1 else token = next_token end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + (t:get("unexpected") or 0) end
  io.write("unexpected=" .. n .. "\n")
end
